"""Security advisories: what a CERT publishes about vulnerabilities (affected products,
CVEs with CVSS scores, remediation), to whom (TLP and audience), and every version it
ever published (revisions, immutable, each with its CSAF 2.0 document and signature)."""

from __future__ import annotations

from typing import Any, NoReturn

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from certhub.advisories.choices import (
    DEFAULT_ACK_HOURS,
    AckState,
    AdvisoryStatus,
    AudienceKind,
    Exploitation,
    RemediationCategory,
    Severity,
)
from certhub.advisories.text import render_markdown
from certhub.core.models import TimeStampedModel
from certhub.tenancy.models import Organization, Sector, Team
from certhub.tenancy.tlp import TLP


class TrackingCounter(models.Model):
    """The last tracking number handed out per prefix and year. Read under a row lock and
    only ever increased, so a tracking id is never given twice, even when a draft is
    deleted."""

    prefix = models.CharField(max_length=40)
    year = models.PositiveSmallIntegerField()
    last_number = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["prefix", "year"], name="advisories_counter_unique")
        ]

    def __str__(self) -> str:
        return f"{self.prefix}-SA-{self.year}: {self.last_number}"


class Advisory(TimeStampedModel):
    """A security advisory of a CERT: the working copy its analysts edit, and where it
    stands in its lifecycle (draft -> review -> published -> updated / withdrawn). What
    readers outside the authoring team see is the latest published revision, never the
    working copy."""

    tracking_id = models.CharField(_("tracking id"), max_length=64, unique=True, editable=False)
    team = models.ForeignKey(
        Team, verbose_name=_("authoring team"), on_delete=models.PROTECT, related_name="advisories"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="authored_advisories",
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("submitted for review by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    status = models.CharField(
        _("status"), max_length=20, choices=AdvisoryStatus.choices, default=AdvisoryStatus.DRAFT
    )

    title = models.CharField(_("title"), max_length=300)
    summary = models.TextField(_("summary"))
    details = models.TextField(_("details (Markdown)"), blank=True)
    severity = models.CharField(
        _("severity"), max_length=10, choices=Severity.choices, default=Severity.MEDIUM
    )
    exploitation = models.CharField(
        _("exploitation"),
        max_length=20,
        choices=Exploitation.choices,
        default=Exploitation.NONE_KNOWN,
    )
    remediation_category = models.CharField(
        _("remediation category"),
        max_length=20,
        choices=RemediationCategory.choices,
        default=RemediationCategory.VENDOR_FIX,
    )
    remediation = models.TextField(_("remediation"), blank=True)
    workarounds = models.TextField(_("workarounds"), blank=True)
    references = models.JSONField(
        _("references"), default=list, blank=True, help_text=_("A list of {url, summary}.")
    )

    tlp = models.CharField("TLP", max_length=12, choices=TLP.choices, default=TLP.AMBER)
    audience_kind = models.CharField(
        _("audience"), max_length=20, choices=AudienceKind.choices, default=AudienceKind.EVERYONE
    )
    audience_sectors = models.ManyToManyField(
        Sector, verbose_name=_("audience sectors"), blank=True, related_name="+"
    )
    audience_team_kinds = models.JSONField(_("audience CERT kinds"), default=list, blank=True)
    audience_organizations = models.ManyToManyField(
        Organization, verbose_name=_("audience organizations"), blank=True, related_name="+"
    )
    red_recipient_users = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("TLP:RED recipients (people)"),
        blank=True,
        related_name="+",
    )
    red_recipient_teams = models.ManyToManyField(
        Team, verbose_name=_("TLP:RED recipients (teams)"), blank=True, related_name="+"
    )

    latest_revision = models.ForeignKey(
        "AdvisoryRevision",
        verbose_name=_("latest published revision"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )
    withdrawal_reason = models.TextField(_("reason for withdrawal"), blank=True)
    ack_within_hours = models.PositiveIntegerField(
        _("acknowledge within (hours)"),
        null=True,
        blank=True,
        help_text=_(
            "How long audience organizations have to acknowledge it before they are "
            "reminded (once). Empty: 48 hours for a critical advisory, none otherwise."
        ),
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("advisory")
        verbose_name_plural = _("advisories")

    def __str__(self) -> str:
        return f"{self.tracking_id}: {self.title}"

    @property
    def details_html(self) -> str:
        return render_markdown(self.details)

    @property
    def is_published(self) -> bool:
        return self.latest_revision_id is not None

    @property
    def ack_hours(self) -> int | None:
        """The acknowledgement deadline in hours after delivery (None: no deadline)."""
        if self.ack_within_hours:
            return int(self.ack_within_hours)
        return DEFAULT_ACK_HOURS.get(self.severity)


class AffectedProduct(models.Model):
    """A product an advisory is about: vendor, product, the affected versions (a range
    such as ``vers:generic/>=2.0|<2.4.58`` or ``< 2.4.58``) and the first fixed version."""

    advisory = models.ForeignKey(Advisory, on_delete=models.CASCADE, related_name="products")
    vendor = models.CharField(_("vendor"), max_length=200)
    product = models.CharField(_("product"), max_length=200)
    versions = models.CharField(_("affected versions"), max_length=200, blank=True)
    fixed_version = models.CharField(_("fixed in version"), max_length=100, blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("affected product")
        verbose_name_plural = _("affected products")

    def __str__(self) -> str:
        return " ".join(part for part in (self.vendor, self.product, self.versions) if part)


class AdvisoryCVE(models.Model):
    """A vulnerability (CVE) an advisory covers, with its CVSS v3.x and v4.0 vectors and
    the base scores computed from them."""

    advisory = models.ForeignKey(Advisory, on_delete=models.CASCADE, related_name="cves")
    cve = models.CharField("CVE", max_length=32)
    title = models.CharField(_("title"), max_length=300, blank=True)
    cvss_v3_vector = models.CharField(_("CVSS v3 vector"), max_length=200, blank=True)
    cvss_v3_score = models.DecimalField(
        _("CVSS v3 base score"), max_digits=3, decimal_places=1, null=True, blank=True
    )
    cvss_v3_severity = models.CharField(_("CVSS v3 severity"), max_length=10, blank=True)
    cvss_v4_vector = models.CharField(_("CVSS v4 vector"), max_length=200, blank=True)
    cvss_v4_score = models.DecimalField(
        _("CVSS v4 base score"), max_digits=3, decimal_places=1, null=True, blank=True
    )
    cvss_v4_severity = models.CharField(_("CVSS v4 severity"), max_length=10, blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("CVE")
        verbose_name_plural = _("CVEs")
        constraints = [
            models.UniqueConstraint(fields=["advisory", "cve"], name="advisories_cve_once")
        ]

    def __str__(self) -> str:
        return self.cve


class ImmutableRevision(Exception):
    """A published revision was about to change: history is never rewritten."""


class RevisionQuerySet(models.QuerySet["AdvisoryRevision"]):
    def update(self, **kwargs: Any) -> NoReturn:
        raise ImmutableRevision("published advisory revisions are never changed")

    def delete(self) -> NoReturn:
        raise ImmutableRevision("published advisory revisions are never deleted")


class AdvisoryRevision(models.Model):
    """One published version of an advisory, kept for good: the content as published
    (``content``), who could read it (TLP and audience as they were), and the CSAF 2.0
    document rendered at publication with its hashes and detached OpenPGP signature, so
    the bytes served and their checksums never change."""

    advisory = models.ForeignKey(Advisory, on_delete=models.PROTECT, related_name="revisions")
    number = models.PositiveIntegerField(_("revision"))
    published_at = models.DateTimeField(_("published"))
    # PROTECT, not SET_NULL: history is never rewritten (deactivate the account instead).
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("published by"),
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
    )
    published_by_name = models.CharField(max_length=150, blank=True)
    author_name = models.CharField(max_length=150, blank=True)
    change_summary = models.CharField(_("what changed"), max_length=500)
    withdrawn = models.BooleanField(_("withdrawal"), default=False)

    tlp = models.CharField("TLP", max_length=12, choices=TLP.choices)
    audience_kind = models.CharField(_("audience"), max_length=20, choices=AudienceKind.choices)
    audience_sectors = models.ManyToManyField(Sector, blank=True, related_name="+")
    audience_team_kinds = models.JSONField(default=list, blank=True)
    audience_organizations = models.ManyToManyField(Organization, blank=True, related_name="+")
    red_recipient_users = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="+"
    )
    red_recipient_teams = models.ManyToManyField(Team, blank=True, related_name="+")

    content = models.JSONField(_("content as published"))
    csaf_path = models.CharField(max_length=200)
    csaf_document = models.TextField(_("CSAF 2.0 document"))
    csaf_sha256 = models.CharField(max_length=64)
    csaf_sha512 = models.CharField(max_length=128)
    csaf_signature = models.TextField(_("detached OpenPGP signature"))

    objects = RevisionQuerySet.as_manager()

    class Meta:
        ordering = ["advisory_id", "number"]
        verbose_name = _("advisory revision")
        verbose_name_plural = _("advisory revisions")
        constraints = [
            models.UniqueConstraint(
                fields=["advisory", "number"], name="advisories_revision_number_once"
            ),
            models.CheckConstraint(condition=Q(number__gte=1), name="advisories_revision_from_1"),
        ]

    def __str__(self) -> str:
        return f"{self.content.get('tracking_id', '?')} revision {self.number}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise ImmutableRevision("published advisory revisions are never changed")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise ImmutableRevision("published advisory revisions are never deleted")

    @property
    def csaf_bytes(self) -> bytes:
        return self.csaf_document.encode("utf-8")


class AdvisoryDelivery(models.Model):
    """An advisory in an organization's certhub inbox: addressed to it by a published
    revision's audience, when it arrived, which revision it last received, whether a
    member has read it since, and whether it was reminded to acknowledge."""

    advisory = models.ForeignKey(Advisory, on_delete=models.CASCADE, related_name="deliveries")
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="advisory_deliveries"
    )
    revision_number = models.PositiveIntegerField(_("revision delivered"))
    delivered_at = models.DateTimeField(_("first delivered"))
    updated_at = models.DateTimeField(_("last delivered"))
    read_at = models.DateTimeField(_("read"), null=True, blank=True)
    read_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("read by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    reminded_at = models.DateTimeField(_("reminded"), null=True, blank=True)

    class Meta:
        ordering = ["-updated_at", "-id"]
        verbose_name = _("advisory delivery")
        verbose_name_plural = _("advisory deliveries")
        constraints = [
            models.UniqueConstraint(
                fields=["advisory", "organization"], name="advisories_delivery_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.advisory_id} -> {self.organization_id} (revision {self.revision_number})"


class Acknowledgement(models.Model):
    """An organization's answer to an advisory it received: received, applied, not
    affected, or needs help (with a comment). Every answer is kept; the latest one is the
    organization's current state, which the coordinating CERT follows."""

    advisory = models.ForeignKey(
        Advisory, on_delete=models.CASCADE, related_name="acknowledgements"
    )
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="advisory_acknowledgements"
    )
    state = models.CharField(_("state"), max_length=20, choices=AckState.choices)
    comment = models.TextField(_("comment"), blank=True)
    revision_number = models.PositiveIntegerField(_("revision acknowledged"))
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    by_name = models.CharField(max_length=150, blank=True)
    at = models.DateTimeField(_("at"), db_index=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("acknowledgement")
        verbose_name_plural = _("acknowledgements")
        indexes = [
            models.Index(fields=["advisory", "organization", "-at"], name="advisories_ack_latest")
        ]

    def __str__(self) -> str:
        return f"{self.organization_id}: {self.state}"
