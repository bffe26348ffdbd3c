"""Fixed vocabularies of incidents, and the status workflow (the one place that says
which status may follow which)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Status(models.TextChoices):
    NEW = "new", _("New")
    TRIAGED = "triaged", _("Triaged")
    IN_PROGRESS = "in_progress", _("In progress")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")
    REJECTED = "rejected", _("Rejected")
    DUPLICATE = "duplicate", _("Duplicate (merged into another incident)")


# The workflow: status -> the statuses it may move to. A resolved or closed incident may
# be reopened, a rejected one reconsidered; a duplicate stays merged.
TRANSITIONS: dict[str, frozenset[str]] = {
    Status.NEW: frozenset({Status.TRIAGED, Status.REJECTED, Status.DUPLICATE}),
    Status.TRIAGED: frozenset(
        {Status.IN_PROGRESS, Status.RESOLVED, Status.REJECTED, Status.DUPLICATE}
    ),
    Status.IN_PROGRESS: frozenset({Status.RESOLVED, Status.DUPLICATE}),
    Status.RESOLVED: frozenset({Status.CLOSED, Status.IN_PROGRESS}),
    Status.CLOSED: frozenset({Status.IN_PROGRESS}),
    Status.REJECTED: frozenset({Status.TRIAGED}),
    Status.DUPLICATE: frozenset(),
}
# Statuses in which the incident is finished: its open deadlines no longer run.
FINISHED = frozenset({Status.CLOSED, Status.REJECTED, Status.DUPLICATE})
# Statuses of an incident still being worked on.
OPEN = frozenset({Status.NEW, Status.TRIAGED, Status.IN_PROGRESS})


class Priority(models.IntegerChoices):
    """CISA-style priority levels (NCISS), 0 to 5."""

    BASELINE = 0, _("Baseline (White)")
    LOW = 1, _("Low (Green)")
    MEDIUM = 2, _("Medium (Yellow)")
    HIGH = 3, _("High (Orange)")
    SEVERE = 4, _("Severe (Red)")
    EMERGENCY = 5, _("Emergency (Black)")


PRIORITY_COLOURS = {0: "white", 1: "green", 2: "yellow", 3: "orange", 4: "red", 5: "black"}


class NoteVisibility(models.TextChoices):
    INTERNAL = "internal", _("Internal (CERT staff only)")
    SHARED = "shared", _("Shared with the reporter")


class ObservableKind(models.TextChoices):
    IPV4 = "ipv4", _("IPv4 address")
    IPV6 = "ipv6", _("IPv6 address")
    CIDR = "cidr", _("IP network (CIDR)")
    DOMAIN = "domain", _("Domain")
    URL = "url", _("URL")
    EMAIL = "email", _("E-mail address")
    MD5 = "md5", _("MD5 hash")
    SHA1 = "sha1", _("SHA-1 hash")
    SHA256 = "sha256", _("SHA-256 hash")
    ASN = "asn", _("Autonomous system")
    CVE = "cve", _("CVE identifier")
    FILENAME = "filename", _("File name")


class LinkKind(models.TextChoices):
    RELATED = "related", _("Related")
    DUPLICATE = "duplicate", _("Duplicate of (merged into)")
    PARENT = "parent", _("Part of campaign")


class DeadlineKind(models.TextChoices):
    # Reporting obligations of the reporting organization (reporting profile).
    EARLY_WARNING = "early_warning", _("Early warning")
    NOTIFICATION = "notification", _("Incident notification")
    FINAL_REPORT = "final_report", _("Final report")
    # Response SLAs of the handling CERT (by priority).
    ACKNOWLEDGE = "acknowledge", _("Acknowledge")
    FIRST_RESPONSE = "first_response", _("First response")
    RESOLVE = "resolve", _("Resolve")


REPORTING_DEADLINES = (
    DeadlineKind.EARLY_WARNING,
    DeadlineKind.NOTIFICATION,
    DeadlineKind.FINAL_REPORT,
)
SLA_DEADLINES = (DeadlineKind.ACKNOWLEDGE, DeadlineKind.FIRST_RESPONSE, DeadlineKind.RESOLVE)


class CustodyAction(models.TextChoices):
    UPLOADED = "uploaded", _("Uploaded")
    DOWNLOADED = "downloaded", _("Downloaded")


class Channel(models.TextChoices):
    """How the report reached the CERT."""

    ORGANIZATION = "organization", _("Organization report")
    PUBLIC = "public", _("Public report")
    STAFF = "staff", _("Recorded by CERT staff")
