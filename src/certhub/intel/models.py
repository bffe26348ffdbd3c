"""Threat intelligence (DESIGN.md section 6): the correlation index over observables
and feed events, and (exchange_models) what STIX, TAXII and MISP interchange keep."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from certhub.incidents.models import Observable
from certhub.intel.correlation import KeyKind
from certhub.tenancy.models import Organization, Sector


class Sighting(models.Model):
    """One place an indicator was seen, in the correlation index: an observable of an
    incident (``observable`` set), or the feed events of one organization on one day
    carrying it (``events`` of them; ``observable`` empty). ``key`` is the 64-bit hash
    of the canonical (kind, value); a URL is also indexed under its host. Kept compact
    and written in bulk: ten million rows answer a lookup with one index probe."""

    key = models.BigIntegerField(_("key (hash of kind and value)"))
    kind = models.CharField(_("type"), max_length=8, choices=KeyKind.choices)
    value = models.CharField(_("value"), max_length=2000)
    # Addresses and networks: the 32-hex address key (a network's first address), as
    # tenancy's Asset and feeds' Event, so "inside this network" is one range scan.
    # NULL, not "", for other kinds: the partial index holds addresses only.
    ip_key = models.CharField(max_length=32, null=True, blank=True)  # noqa: DJ001
    prefix_len = models.PositiveSmallIntegerField(null=True, blank=True)
    # The incident side. Deleting an observable (or its incident) deletes its sightings
    # (one DELETE through the partial index below).
    observable = models.ForeignKey(
        Observable,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        db_index=False,
        related_name="+",
    )
    incident_id = models.BigIntegerField(null=True, blank=True)
    # The feed side: the routed organization and its sector that day (None: unrouted).
    organization = models.ForeignKey(
        Organization,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        db_index=False,
        related_name="+",
    )
    sector = models.ForeignKey(
        Sector,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        db_index=False,
        related_name="+",
    )
    day = models.DateField(_("day (UTC)"))
    events = models.PositiveIntegerField(_("feed events"), default=0)

    class Meta:
        verbose_name = _("sighting")
        verbose_name_plural = _("sightings")
        indexes = [
            # The key first (a lookup's probe), then what counting a value needs: a
            # batch of keys is counted from this index alone, without reading the table.
            models.Index(
                fields=["key", "organization", "incident_id", "day", "events"],
                name="intel_sighting_key_counts",
            ),
            models.Index(
                fields=["ip_key"], name="intel_sighting_ip", condition=Q(ip_key__isnull=False)
            ),
            models.Index(
                fields=["observable"],
                name="intel_sighting_observable",
                condition=Q(observable__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind}:{self.value}"[:300]


class IndexedPrefix(models.Model):
    """A network prefix length present in the index (IPv4 /24, IPv6 /48...): an address
    lookup probes only the networks of these lengths that could contain it."""

    version = models.PositiveSmallIntegerField()
    prefix_len = models.PositiveSmallIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["version", "prefix_len"], name="intel_prefix_once")
        ]

    def __str__(self) -> str:
        return f"IPv{self.version} /{self.prefix_len}"


class IndicatorFlag(models.Model):
    """An indicator the index flagged: ``widespread`` (seen across more organizations
    than CERTHUB_INTEL_WIDESPREAD_ORGS; the national team was alerted once) and/or
    ``common`` (over CERTHUB_INTEL_COMMON_THRESHOLD incidents or organizations: it no
    longer links incidents, as MISP's over-correlation cap)."""

    key = models.BigIntegerField(unique=True)
    kind = models.CharField(_("type"), max_length=8, choices=KeyKind.choices)
    value = models.CharField(_("value"), max_length=2000)
    organizations = models.PositiveIntegerField(_("organizations"), default=0)
    incidents = models.PositiveIntegerField(_("incidents"), default=0)
    widespread_since = models.DateTimeField(_("widespread since"), null=True, blank=True)
    common_since = models.DateTimeField(_("common since"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("flagged indicator")
        verbose_name_plural = _("flagged indicators")
        ordering = ["-updated_at"]

    def __str__(self) -> str:
        return f"{self.kind}:{self.value}"[:300]

    @property
    def common(self) -> bool:
        return self.common_since is not None

    @property
    def widespread(self) -> bool:
        return self.widespread_since is not None


class IndexedRun(models.Model):
    """A feed ingest run whose events are in the index: a run is indexed once, even when
    its task runs twice."""

    run_id = models.BigIntegerField(unique=True)
    events = models.PositiveIntegerField(default=0)
    sightings = models.PositiveIntegerField(default=0)
    indexed_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"run {self.run_id}: {self.sightings} sightings"


from certhub.intel.exchange_models import *  # noqa: E402,F403
