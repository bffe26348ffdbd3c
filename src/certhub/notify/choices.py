"""What certhub notifies about, and the states of an outgoing message."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class NotificationKind(models.TextChoices):
    """What a user can choose to receive by e-mail (all on by default)."""

    INCIDENT_REPORTED = "incident_reported", _("A new incident for my team")
    INCIDENT_ASSIGNED = "incident_assigned", _("An incident assigned to me")
    INCIDENT_MOVED = "incident_moved", _("Escalations, delegations and participation")
    INCIDENT_UPDATED = "incident_updated", _("Notes and status changes on my incidents")
    DEADLINE_BREACHED = "deadline_breached", _("Missed deadlines")
    ADVISORY_PUBLISHED = "advisory_published", _("Security advisories")
    FEED_DIGEST = "feed_digest", _("Daily abuse feed digests")


class MailStatus(models.TextChoices):
    QUEUED = "queued", _("queued")
    SENT = "sent", _("sent")
    FAILED = "failed", _("failed")
