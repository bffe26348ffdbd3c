"""Fixed vocabularies of advisories."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class AdvisoryStatus(models.TextChoices):
    """Where the working copy of an advisory stands. ``published`` and ``updated`` mean the
    working copy is what the latest revision published (``updated``: more than one
    revision); ``draft`` and ``review`` on an advisory that has revisions are an update in
    preparation, while readers keep seeing the latest revision."""

    DRAFT = "draft", _("Draft")
    REVIEW = "review", _("In review")
    PUBLISHED = "published", _("Published")
    UPDATED = "updated", _("Updated")
    WITHDRAWN = "withdrawn", _("Withdrawn")


EDITABLE_STATUSES = frozenset(
    {
        AdvisoryStatus.DRAFT,
        AdvisoryStatus.REVIEW,
        AdvisoryStatus.PUBLISHED,
        AdvisoryStatus.UPDATED,
    }
)


class Severity(models.TextChoices):
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")
    CRITICAL = "critical", _("Critical")


class Exploitation(models.TextChoices):
    """What is known about exploitation of the vulnerabilities (CSAF threat
    ``exploit_status``)."""

    NONE_KNOWN = "none_known", _("No known exploitation")
    PROOF_OF_CONCEPT = "proof_of_concept", _("Proof-of-concept exploit public")
    ACTIVE = "active", _("Exploited in the wild")


class RemediationCategory(models.TextChoices):
    """The CSAF 2.0 remediation category of the advisory's remediation text."""

    VENDOR_FIX = "vendor_fix", _("Vendor fix")
    MITIGATION = "mitigation", _("Mitigation")
    NO_FIX_PLANNED = "no_fix_planned", _("No fix planned")
    NONE_AVAILABLE = "none_available", _("No fix available yet")


class AudienceKind(models.TextChoices):
    """Who an advisory is addressed to. For TLP:AMBER and AMBER+STRICT it decides who may
    read it; for CLEAR and GREEN only whom it is sent to; RED goes to named recipients."""

    EVERYONE = "everyone", _("Everyone")
    SECTORS = "sectors", _("Selected sectors")
    TIERS = "tiers", _("CERTs of selected kinds and their constituents")
    CII = "cii", _("CII operators only")
    ORGANIZATIONS = "organizations", _("Named organizations")


# How long audience organizations have to acknowledge an advisory of this severity when the
# advisory names no deadline of its own (None: no acknowledgement deadline, no reminders).
DEFAULT_ACK_HOURS: dict[str, int | None] = {
    Severity.CRITICAL: 48,
    Severity.HIGH: None,
    Severity.MEDIUM: None,
    Severity.LOW: None,
}


class AckState(models.TextChoices):
    """What an organization answers to an advisory it received."""

    RECEIVED = "received", _("Received")
    APPLIED = "applied", _("Applied the remediation")
    NOT_AFFECTED = "not_affected", _("Not affected")
    NEED_HELP = "need_help", _("Need help")
