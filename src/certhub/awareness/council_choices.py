"""Fixed vocabularies of the CERT Council."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class CouncilSeat(models.TextChoices):
    CHAIR = "chair", _("Chair")
    SECRETARY = "secretary", _("Secretary")
    MINISTRY = "ministry", _("Ministry of Information Technology")
    DEFENCE = "defence", _("Defence")
    INTERIOR = "interior", _("Interior")
    FOREIGN_AFFAIRS = "foreign_affairs", _("Foreign affairs")
    INDUSTRY = "industry", _("Industry")
    ACADEMIA = "academia", _("Academia")
    CIVIL_SOCIETY = "civil_society", _("Civil society")


# The seats that keep the Council's records (everyone else reads).
COUNCIL_WRITE_SEATS = frozenset({CouncilSeat.CHAIR, CouncilSeat.SECRETARY})


class Attendance(models.TextChoices):
    PRESENT = "present", _("Present")
    EXCUSED = "excused", _("Excused")
    ABSENT = "absent", _("Absent")


class RecommendationKind(models.TextChoices):
    GENERAL = "general", _("General recommendation")
    CERT_NOTIFICATION = "cert_notification", _("Notification to provincial and sectoral CERTs")


class RecommendationStatus(models.TextChoices):
    OPEN = "open", _("Open")
    IN_PROGRESS = "in_progress", _("In progress")
    IMPLEMENTED = "implemented", _("Implemented")
    REJECTED = "rejected", _("Rejected")
    WITHDRAWN = "withdrawn", _("Withdrawn")


CLOSED_RECOMMENDATION_STATUSES = frozenset(
    {
        RecommendationStatus.IMPLEMENTED,
        RecommendationStatus.REJECTED,
        RecommendationStatus.WITHDRAWN,
    }
)


class DisputeStatus(models.TextChoices):
    OPEN = "open", _("Open")
    UNDER_REVIEW = "under_review", _("Under review")
    DECIDED = "decided", _("Decided")
    WITHDRAWN = "withdrawn", _("Withdrawn")
