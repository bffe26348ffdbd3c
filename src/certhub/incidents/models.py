"""Incidents: what a constituent or a citizen reports and a CERT handles, with its notes,
tasks, indicators, evidence, links, deadlines and the timeline of everything done."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from certhub.core.models import TimeStampedModel
from certhub.incidents.choices import (
    Channel,
    CustodyAction,
    DeadlineKind,
    LinkKind,
    NoteVisibility,
    ObservableKind,
    Priority,
    Status,
)
from certhub.tenancy.models import Organization, Team
from certhub.tenancy.tlp import PAP, TLP


class ReferenceCounter(models.Model):
    """The last incident number given out for one prefix and year. The row is locked
    while a new incident takes the next number, so numbers are never reused or given
    twice, whatever the number of concurrent reports."""

    prefix = models.CharField(max_length=20)
    year = models.PositiveSmallIntegerField()
    last_number = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["prefix", "year"], name="incidents_counter_unique")
        ]

    def __str__(self) -> str:
        return f"{self.prefix}-{self.year}: {self.last_number}"


class Incident(TimeStampedModel):
    """A security incident reported to the CERT system: who reported it and who is
    affected, how it is classified (RSIT) and how severe it is, which CERT handles it
    and which take part, its sharing labels (TLP, PAP) and its status."""

    reference = models.CharField(_("reference"), max_length=40, unique=True, editable=False)
    title = models.CharField(_("title"), max_length=300)
    description = models.TextField(_("description"), blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.NEW, db_index=True
    )
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices)
    # RSIT classification (validated against data/rsit.json by the services).
    category = models.CharField(_("category"), max_length=60, blank=True, db_index=True)
    type = models.CharField(_("type"), max_length=60, blank=True)
    tlp = models.CharField(_("TLP"), max_length=12, choices=TLP.choices, default=TLP.AMBER)
    pap = models.CharField(_("PAP"), max_length=8, choices=PAP.choices, default=PAP.AMBER)

    reporting_org = models.ForeignKey(
        Organization,
        verbose_name=_("reporting organization"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reported_incidents",
    )
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reporter"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="reported_incidents",
    )
    # A citizen's report: name and address given on the public form (no account).
    reporter_name = models.CharField(_("reporter name"), max_length=200, blank=True)
    reporter_email = models.EmailField(_("reporter e-mail"), blank=True)
    # SHA-256 of the public tracking code; the code itself is shown once and not kept.
    tracking_code_hash = models.CharField(
        max_length=64, unique=True, null=True, blank=True, editable=False
    )
    affected_orgs = models.ManyToManyField(
        Organization,
        verbose_name=_("affected organizations"),
        blank=True,
        related_name="affected_by_incidents",
    )

    handling_team = models.ForeignKey(
        Team, verbose_name=_("handling team"), on_delete=models.PROTECT, related_name="incidents"
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assignee"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_incidents",
    )
    merged_into = models.ForeignKey(
        "self",
        verbose_name=_("merged into"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="merged_duplicates",
    )

    first_seen_at = models.DateTimeField(_("first seen"), null=True, blank=True)
    detected_at = models.DateTimeField(_("detected"), null=True, blank=True)
    reported_at = models.DateTimeField(_("reported"))

    # Impact, in the reporter's and the analyst's words and numbers.
    impact = models.TextField(_("impact"), blank=True)
    affected_systems = models.PositiveIntegerField(_("affected systems"), null=True, blank=True)
    affected_people = models.PositiveIntegerField(_("affected people"), null=True, blank=True)
    data_breach = models.BooleanField(_("personal data breached"), default=False)

    # Severity: the NCISS-style answers, the score they give, and the priority after
    # the CII raise (see severity.py).
    severity_answers = models.JSONField(_("severity assessment"), default=dict, blank=True)
    severity_score = models.PositiveSmallIntegerField(_("severity score"), null=True, blank=True)
    priority = models.PositiveSmallIntegerField(
        _("priority"), choices=Priority.choices, default=Priority.BASELINE, db_index=True
    )
    reporting_profile = models.CharField(_("reporting profile"), max_length=40, blank=True)
    # Automatic escalation rules that already fired: each fires once per incident.
    escalation_rules_fired = models.JSONField(default=list, blank=True, editable=False)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("incident")
        verbose_name_plural = _("incidents")
        indexes = [
            models.Index(fields=["handling_team", "-id"], name="incidents_handling_newest"),
            models.Index(fields=["reporting_org", "-id"], name="incidents_reporter_newest"),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.title}"[:300]


class Participation(models.Model):
    """A CERT taking part in an incident it does not handle: the lower team after an
    escalation, or a team a coordinator brought in (e.g. the Telecom CERT)."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="participations")
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="participations")
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["incident", "team"], name="incidents_participant_once")
        ]

    def __str__(self) -> str:
        return f"{self.team} in {self.incident_id}"


class Recipient(models.Model):
    """Someone named as a recipient of an incident's TLP:RED content: a user (the
    reporter) or a whole team (the handling team, named as it takes the incident)."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="recipients")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True
    )
    team = models.ForeignKey(Team, on_delete=models.CASCADE, null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(user__isnull=False, team__isnull=True)
                | Q(user__isnull=True, team__isnull=False),
                name="incidents_recipient_one_kind",
            ),
            models.UniqueConstraint(
                fields=["incident", "user"],
                condition=Q(user__isnull=False),
                name="incidents_recipient_user_once",
            ),
            models.UniqueConstraint(
                fields=["incident", "team"],
                condition=Q(team__isnull=False),
                name="incidents_recipient_team_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user or self.team} on {self.incident_id}"


class Note(models.Model):
    """A note on an incident: internal (CERT staff only) or shared with the reporter,
    with its own TLP label."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    body = models.TextField(_("note"))
    visibility = models.CharField(_("visibility"), max_length=10, choices=NoteVisibility.choices)
    tlp = models.CharField(_("TLP"), max_length=12, choices=TLP.choices, default=TLP.AMBER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"note {self.pk} on {self.incident_id}"


class Task(models.Model):
    """A piece of work on an incident for a CERT analyst (CERT-internal)."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="tasks")
    title = models.CharField(_("title"), max_length=300)
    description = models.TextField(_("description"), blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="incident_tasks",
    )
    due_at = models.DateTimeField(_("due"), null=True, blank=True)
    done_at = models.DateTimeField(_("done"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.title


class Observable(models.Model):
    """An indicator seen in the incident (IOC): an address, domain, URL, hash...,
    stored normalised. Internal ones are hidden from the reporting organization."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="observables")
    kind = models.CharField(_("type"), max_length=10, choices=ObservableKind.choices)
    # At most 2000 bytes (checked on input), so it fits a PostgreSQL index entry.
    value = models.CharField(_("value"), max_length=2000)
    tlp = models.CharField(_("TLP"), max_length=12, choices=TLP.choices, default=TLP.AMBER)
    internal = models.BooleanField(_("internal"), default=False)
    comment = models.CharField(_("comment"), max_length=500, blank=True)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["incident", "kind", "value"], name="incidents_observable_once"
            )
        ]
        indexes = [models.Index(fields=["kind", "value"], name="incidents_observable_value")]

    def __str__(self) -> str:
        return f"{self.kind}:{self.value}"[:300]


class Attachment(models.Model):
    """Evidence attached to an incident (a log, a sample, a screenshot). The bytes are
    stored once under their SHA-256; the content type is read from the bytes, not taken
    from the client."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="attachments")
    sha256 = models.CharField(max_length=64)
    filename = models.CharField(_("file name"), max_length=255)
    size = models.PositiveBigIntegerField(_("size"))
    content_type = models.CharField(_("content type"), max_length=120)
    tlp = models.CharField(_("TLP"), max_length=12, choices=TLP.choices, default=TLP.AMBER)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["incident", "sha256"], name="incidents_attachment_once")
        ]

    def __str__(self) -> str:
        return f"{self.filename} ({self.sha256[:12]})"


class CustodyEntry(models.Model):
    """One link in an attachment's chain of custody: who uploaded or downloaded it,
    when, from where, and the SHA-256 the bytes had at that moment."""

    attachment = models.ForeignKey(Attachment, on_delete=models.CASCADE, related_name="custody")
    action = models.CharField(max_length=12, choices=CustodyAction.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    actor_name = models.CharField(max_length=150, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    sha256 = models.CharField(max_length=64)
    occurred_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        verbose_name_plural = _("custody entries")

    def __str__(self) -> str:
        return f"{self.action} {self.attachment_id} by {self.actor_name}"


class IncidentLink(models.Model):
    """A link from one incident to another: related, duplicate of (merged into), or
    part of a campaign (``target`` is the parent)."""

    source = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="links_out")
    target = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="links_in")
    kind = models.CharField(max_length=12, choices=LinkKind.choices)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "target", "kind"], name="incidents_link_once"
            ),
            models.CheckConstraint(
                condition=~Q(source=models.F("target")), name="incidents_link_not_self"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source_id} {self.kind} {self.target_id}"


class Deadline(models.Model):
    """A date the incident must meet: a reporting obligation of the reporting
    organization (early warning, notification, final report) or a response SLA of the
    handling CERT (acknowledge, first response, resolve). Its clock may be paused; a
    breach is notified once (``breach_notified_at``)."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="deadlines")
    kind = models.CharField(max_length=20, choices=DeadlineKind.choices)
    due_at = models.DateTimeField(_("due"))
    met_at = models.DateTimeField(_("met"), null=True, blank=True)
    paused_at = models.DateTimeField(_("paused since"), null=True, blank=True)
    # Time spent paused so far; already added to ``due_at``.
    paused_for = models.DurationField(default=dt.timedelta(0))
    breach_notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["incident", "kind"], name="incidents_deadline_once")
        ]
        indexes = [models.Index(fields=["met_at", "paused_at", "due_at"], name="incidents_due")]

    def __str__(self) -> str:
        return f"{self.kind} of {self.incident_id} due {self.due_at:%Y-%m-%d %H:%M}"


class TimelineEntry(models.Model):
    """One thing that happened to an incident, in order: reported, triaged, escalated,
    a note added... Written by every service next to its audit entry. ``internal``
    entries are not shown to the reporting organization."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="timeline")
    occurred_at = models.DateTimeField(auto_now_add=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    actor_name = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=40)
    summary = models.CharField(max_length=500, blank=True)
    changes = models.JSONField(default=dict, blank=True)
    internal = models.BooleanField(default=False)

    class Meta:
        ordering = ["id"]
        verbose_name_plural = _("timeline entries")

    def __str__(self) -> str:
        return f"{self.incident_id} {self.action}"


class PublicSubmission(models.Model):
    """When a public report arrived from which client address: counted to rate-limit
    the public form per address. Rows older than the window can be pruned."""

    ip_address = models.GenericIPAddressField(null=True, blank=True)
    submitted_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        indexes = [models.Index(fields=["ip_address", "submitted_at"], name="incidents_public_ip")]

    def __str__(self) -> str:
        return f"{self.ip_address} at {self.submitted_at}"


class SavedView(models.Model):
    """A queue filter an analyst keeps under a name ("Overdue banking", "My High+"): the
    query string of the incident queue, replayed as a link. Personal to its user."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_incident_views"
    )
    name = models.CharField(_("name"), max_length=100)
    query = models.CharField(_("filters"), max_length=2000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "name"], name="incidents_saved_view_name_once")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.user_id})"
