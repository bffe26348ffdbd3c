"""Machine-generated abuse events (DESIGN.md section 5): the report files they came in,
one accounting row per ingest of a file, the events themselves, and the operator's
prefix-to-AS table used to enrich them."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from certhub.tenancy.models import Organization, Sector, Team


def _reported(max_length: int | None = None, verbose_name: Any = "") -> models.Field[Any, Any]:
    """An optional value copied from a report. NULL means "the report did not carry it":
    bulk writers leave absent columns out of the row, and NULL keeps "not reported"
    apart from an empty value without a sentinel."""
    if max_length is None:
        return models.TextField(verbose_name, null=True, blank=True)
    return models.CharField(verbose_name, max_length=max_length, null=True, blank=True)


class ReportFile(models.Model):
    """An original report file as received (a Shadowserver CSV, a partner CSV, IntelMQ
    JSON lines), kept once on disk under its SHA-256 so that every event can point at its
    file and line instead of copying the row."""

    sha256 = models.CharField(_("SHA-256"), max_length=64, unique=True)
    size = models.BigIntegerField(_("size in bytes"))
    name = models.CharField(_("file name as received"), max_length=255)
    received_at = models.DateTimeField(_("first received"), auto_now_add=True)
    # The latest event day in the file: once that day is pruned, no event points here.
    last_day = models.DateField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("report file")
        verbose_name_plural = _("report files")
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.sha256[:12]})"

    @property
    def storage_name(self) -> str:
        """Path below ``MEDIA_ROOT/feeds``: fanned out by the first hash digits."""
        return f"{self.sha256[:2]}/{self.sha256}"


class IngestRun(models.Model):
    """One ingest of one report file and its accounting: every row read ends as an
    accepted event, a duplicate of an event already stored, or a rejected row with its
    line and reason (rows = accepted + duplicates + rejected). A run that could not load
    its file at all is quarantined with the reason and loaded nothing."""

    class Status(models.TextChoices):
        DONE = "done", _("done")
        QUARANTINED = "quarantined", _("quarantined")

    file = models.ForeignKey(
        ReportFile, on_delete=models.SET_NULL, null=True, blank=True, related_name="runs"
    )
    sha256 = models.CharField(_("SHA-256"), max_length=64, db_index=True)
    file_name = models.CharField(_("file name"), max_length=255)
    report_type = models.CharField(_("report type"), max_length=60, blank=True)
    feed_name = models.CharField(_("feed"), max_length=100, blank=True)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices)
    reason = models.TextField(_("quarantine reason"), blank=True)
    rows = models.PositiveIntegerField(_("rows read"), default=0)
    accepted = models.PositiveIntegerField(_("accepted"), default=0)
    duplicates = models.PositiveIntegerField(_("duplicates"), default=0)
    rejected = models.PositiveIntegerField(_("rejected"), default=0)
    unrouted = models.PositiveIntegerField(_("accepted but unrouted"), default=0)
    seconds = models.FloatField(_("seconds"), default=0)
    # [{"line": 12, "reason": "..."}], the first MAX_STORED_REJECTIONS of them.
    rejections = models.JSONField(_("rejected rows"), default=list, blank=True)
    started_at = models.DateTimeField(_("started"))
    finished_at = models.DateTimeField(_("finished"))
    actor = models.CharField(_("started by"), max_length=150, blank=True)

    class Meta:
        verbose_name = _("ingest run")
        verbose_name_plural = _("ingest runs")
        ordering = ["-started_at"]
        constraints = [
            # A file is loaded once: a second worker racing on the same file fails here.
            models.UniqueConstraint(
                fields=["sha256"], condition=Q(status="done"), name="feeds_run_loaded_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.file_name}: {self.status}"


class Event(models.Model):
    """One abuse event (a vulnerable service, an infected host, a compromised site, a
    brute-force source) with IntelMQ-compatible fields, routed to the organization that
    owns the address. Repeated sightings of the same thing on the same day are one event:
    ``count`` and ``last_seen`` grow instead of new rows. The original row stays in its
    report file (``file`` and ``line``); ``extra`` keeps only the report's non-empty
    columns that have no field of their own."""

    file = models.ForeignKey(ReportFile, on_delete=models.PROTECT, db_index=False, related_name="+")
    line = models.PositiveIntegerField(_("line in file"))
    day = models.DateField(_("day (UTC)"))
    # The dedup key: BLAKE2b-64 of the identity fields' values (pipeline.identity_hash)
    # as a signed 64-bit integer. An 8-byte key keeps the unique index small and fast
    # to maintain; two different events of one day share a key with probability about
    # n^2 / 2^65 (n events that day: 2.7e-8 for a million, 2.7e-6 for ten million).
    identity_hash = models.BigIntegerField(_("identity key (hash)"))
    count = models.PositiveIntegerField(_("sightings"), default=1)
    time_source = models.DateTimeField(_("time.source"))
    last_seen = models.DateTimeField(_("last seen"))
    time_observation = models.DateTimeField(_("time.observation"))
    feed_name = models.CharField(_("feed.name"), max_length=100)
    feed_code = models.CharField(_("feed.code"), max_length=60)
    classification_taxonomy = models.CharField(_("classification.taxonomy"), max_length=50)
    classification_type = models.CharField(_("classification.type"), max_length=50)
    classification_identifier = models.CharField(_("classification.identifier"), max_length=200)
    severity = _reported(20, _("severity"))
    source_ip = _reported(45, _("source.ip"))
    # 32 hex digits (IPv4 mapped into IPv6), as tenancy's Asset.range_start/range_end:
    # "events inside 192.0.2.0/24" is an index range scan on every database.
    source_ip_key = _reported(32)
    source_network = _reported(50, _("source.network"))
    source_port = models.PositiveIntegerField(_("source.port"), null=True, blank=True)
    source_asn = models.BigIntegerField(_("source.asn"), null=True, blank=True)
    source_as_name = _reported(200, _("source.as_name"))
    source_fqdn = _reported(255, _("source.fqdn"))
    source_url = _reported(None, _("source.url"))
    source_reverse_dns = _reported(255, _("source.reverse_dns"))
    source_account = _reported(255, _("source.account"))
    source_geolocation_cc = _reported(10, _("source.geolocation.cc"))
    source_geolocation_region = _reported(100, _("source.geolocation.region"))
    source_geolocation_city = _reported(100, _("source.geolocation.city"))
    destination_ip = _reported(45, _("destination.ip"))
    destination_port = models.PositiveIntegerField(_("destination.port"), null=True, blank=True)
    destination_asn = models.BigIntegerField(_("destination.asn"), null=True, blank=True)
    destination_fqdn = _reported(255, _("destination.fqdn"))
    destination_url = _reported(None, _("destination.url"))
    destination_reverse_dns = _reported(255, _("destination.reverse_dns"))
    destination_account = _reported(255, _("destination.account"))
    destination_geolocation_cc = _reported(10, _("destination.geolocation.cc"))
    protocol_transport = _reported(20, _("protocol.transport"))
    protocol_application = _reported(50, _("protocol.application"))
    malware_name = _reported(200, _("malware.name"))
    product_vendor = _reported(200, _("product.vendor"))
    product_name = _reported(200, _("product.name"))
    product_version = _reported(200, _("product.version"))
    event_description_text = _reported(None, _("event_description.text"))
    extra = models.JSONField(_("extra"), default=dict, blank=True)
    # Routing and enrichment at ingest time (the organization's state that day).
    organization = models.ForeignKey(
        Organization,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        db_index=False,
        related_name="+",
    )
    team = models.ForeignKey(
        Team, on_delete=models.SET_NULL, null=True, blank=True, db_index=False, related_name="+"
    )
    sector = models.ForeignKey(
        Sector, on_delete=models.SET_NULL, null=True, blank=True, db_index=False, related_name="+"
    )
    is_cii = models.BooleanField(_("critical information infrastructure"), default=False)
    routed_by = _reported(10, _("routed by"))

    class Meta:
        verbose_name = _("event")
        verbose_name_plural = _("events")
        constraints = [
            # The dedup key: one event per identity per day (ON CONFLICT target).
            models.UniqueConstraint(
                fields=["day", "identity_hash"], name="feeds_event_identity_hash"
            )
        ]
        indexes = [
            models.Index(fields=["organization", "day"], name="feeds_event_org_day"),
            models.Index(fields=["team", "day"], name="feeds_event_team_day"),
            models.Index(
                fields=["classification_taxonomy", "classification_type", "day"],
                name="feeds_event_class_day",
            ),
            models.Index(fields=["source_ip_key"], name="feeds_event_ip"),
        ]

    def __str__(self) -> str:
        return f"{self.classification_identifier} {self.source_ip or self.source_fqdn} {self.day}"


class AsnPrefix(models.Model):
    """One row of the operator's prefix-to-AS table (`certhub feeds load-asn`): which
    autonomous system announces a network, and its name. Enriches events with
    ``source.asn`` and ``source.as_name``."""

    prefix = models.CharField(_("prefix"), max_length=50, unique=True)
    range_start = models.CharField(max_length=32)
    range_end = models.CharField(max_length=32)
    prefix_len = models.PositiveSmallIntegerField()
    asn = models.BigIntegerField(_("AS number"))
    as_name = models.CharField(_("AS name"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("prefix-to-AS entry")
        verbose_name_plural = _("prefix-to-AS table")
        ordering = ["range_start", "prefix_len"]

    def __str__(self) -> str:
        return f"{self.prefix} AS{self.asn}"


# --- Outputs (digests, rules) -----------------------------------------------------------
# Owned by the outputs side of feeds (digests.py, rules.py); kept apart from the event
# pipeline's models above.


class FeedRule(models.Model):
    """A standing order of the national CERT: "when an organization has events like
    these on a day, open an incident for its responsible team". Rules are data, edited
    by platform admins; each fires at most once per organization per day."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    enabled = models.BooleanField(_("enabled"), default=True)
    description = models.TextField(_("description"), blank=True)
    taxonomies = models.JSONField(
        _("classification taxonomies"),
        default=list,
        blank=True,
        help_text=_("Any of these classification.taxonomy values (empty: any)."),
    )
    types = models.JSONField(
        _("classification types"),
        default=list,
        blank=True,
        help_text=_("Any of these classification.type values (empty: any)."),
    )
    cii_only = models.BooleanField(_("CII organizations only"), default=False)
    min_events = models.PositiveIntegerField(
        _("minimum events"), default=1, help_text=_("Events of that day needed to fire.")
    )

    class Meta:
        verbose_name = _("feed rule")
        verbose_name_plural = _("feed rules")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        for field in ("taxonomies", "types"):
            value = getattr(self, field)
            if not isinstance(value, list) or not all(
                isinstance(v, str) and v.strip() for v in value
            ):
                raise ValidationError(
                    {field: _('A list of classification values, e.g. ["infected-system"].')}
                )


class RuleFiring(models.Model):
    """The record that a feed rule fired for an organization on a day, and the incident
    it opened: the rule does not fire again for the same organization and day."""

    rule = models.ForeignKey(FeedRule, on_delete=models.CASCADE, related_name="firings")
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    day = models.DateField(_("day (UTC)"))
    events = models.PositiveIntegerField(_("events"), default=0)
    incident = models.ForeignKey(
        "incidents.Incident", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    fired_at = models.DateTimeField(_("fired"), auto_now_add=True)

    class Meta:
        verbose_name = _("rule firing")
        verbose_name_plural = _("rule firings")
        ordering = ["-fired_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["rule", "organization", "day"], name="feeds_rule_fires_once_a_day"
            )
        ]

    def __str__(self) -> str:
        return f"{self.rule} / {self.organization_id} / {self.day}"
