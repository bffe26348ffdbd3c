"""What STIX 2.1, TAXII 2.1 and MISP interchange keep: collections, shared objects and
the status of posted envelopes."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from certhub.tenancy.models import Sector, Team
from certhub.tenancy.tlp import TLP

__all__ = ["Collection", "CollectionKind", "EnvelopeStatus", "SharedObject"]


class CollectionKind(models.TextChoices):
    TEAM = "team", _("Team")
    SECTOR = "sector", _("Sector")
    NATIONAL = "national", _("National")


class Collection(models.Model):
    """A TAXII 2.1 collection: the indicators a CERT shares with its own people and
    constituents (one per team), with a sector, or with the whole national community.
    Its TLP ceiling is the most restrictive label an object in it may carry; who may
    read and who may add follows from its owner team, its sector and the reader's role
    (``exchange_selectors``)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(_("kind"), max_length=10, choices=CollectionKind.choices)
    team = models.ForeignKey(
        Team, verbose_name=_("owner team"), on_delete=models.CASCADE, related_name="collections"
    )
    sector = models.ForeignKey(
        Sector,
        verbose_name=_("sector"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="collections",
    )
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    tlp_ceiling = models.CharField(
        _("TLP ceiling"), max_length=12, choices=TLP.choices, default=TLP.AMBER
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["kind", "title"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "team"],
                condition=models.Q(kind="team"),
                name="intel_collection_team_once",
            ),
            models.UniqueConstraint(
                fields=["sector"],
                condition=models.Q(kind="sector"),
                name="intel_collection_sector_once",
            ),
            models.UniqueConstraint(
                fields=["kind"],
                condition=models.Q(kind="national"),
                name="intel_collection_national_once",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class SharedObject(models.Model):
    """One version of one STIX object in a collection, as it was added: the object's
    JSON, its TLP label, where it came from and when it was added (TAXII pages by
    ``date_added`` then ``id``, so paging is stable while objects arrive)."""

    collection = models.ForeignKey(
        Collection, on_delete=models.CASCADE, related_name="shared_objects"
    )
    stix_id = models.CharField(max_length=120)
    stix_type = models.CharField(max_length=60)
    # ``modified`` of the object (``created`` when it has none), as the TAXII version.
    version = models.DateTimeField()
    spec_version = models.CharField(max_length=10, default="2.1")
    media_type = models.CharField(max_length=60, default="application/stix+json;version=2.1")
    date_added = models.DateTimeField()
    tlp = models.CharField(max_length=12, choices=TLP.choices)
    body = models.JSONField()
    source_incident = models.ForeignKey(
        "incidents.Incident", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )

    class Meta:
        ordering = ["date_added", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["collection", "stix_id", "version"], name="intel_shared_version_once"
            )
        ]
        indexes = [
            models.Index(fields=["collection", "date_added", "id"], name="intel_shared_added"),
            models.Index(fields=["collection", "stix_id"], name="intel_shared_stix_id"),
        ]

    def __str__(self) -> str:
        return f"{self.stix_id} ({self.version:%Y-%m-%dT%H:%M:%S})"


class EnvelopeStatus(models.Model):
    """The TAXII status resource of one posted envelope: how many objects were taken,
    which failed and why."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    collection = models.ForeignKey(Collection, on_delete=models.CASCADE, related_name="statuses")
    status = models.CharField(max_length=10, default="complete")
    request_timestamp = models.DateTimeField()
    total_count = models.PositiveIntegerField(default=0)
    success_count = models.PositiveIntegerField(default=0)
    failure_count = models.PositiveIntegerField(default=0)
    pending_count = models.PositiveIntegerField(default=0)
    successes = models.JSONField(default=list)
    failures = models.JSONField(default=list)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )

    class Meta:
        ordering = ["-request_timestamp"]
        verbose_name_plural = _("envelope statuses")

    def __str__(self) -> str:
        return f"status {self.id}"
