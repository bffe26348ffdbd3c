"""The CERT Council: members and their seats, meetings, the register of recommendations,
and disputes between CERTs."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from certhub.awareness.council_choices import (
    Attendance,
    CouncilSeat,
    DisputeStatus,
    RecommendationKind,
    RecommendationStatus,
)
from certhub.core.models import TimeStampedModel

__all__ = [
    "CouncilMeeting",
    "CouncilMember",
    "Dispute",
    "MeetingAttendance",
    "Recommendation",
    "RecommendationFollowUp",
]


class CouncilMember(TimeStampedModel):
    """One term of a person on the CERT Council, in one seat (chair, secretary, a
    ministry, industry, academia, civil society). A member reads the Council's records
    while a term runs (``term_start`` to ``term_end``, both included); when the last
    term has ended, access ends with it. Past terms stay on record."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person"),
        on_delete=models.PROTECT,
        related_name="council_terms",
    )
    seat = models.CharField(_("seat"), max_length=20, choices=CouncilSeat.choices)
    organization_name = models.CharField(
        _("represents"), max_length=200, blank=True, help_text=_("Ministry, body or institution.")
    )
    term_start = models.DateField(_("term starts"))
    term_end = models.DateField(_("term ends"))

    class Meta:
        ordering = ["-term_end", "seat"]
        verbose_name = _("Council member")
        verbose_name_plural = _("Council members")
        constraints = [
            models.CheckConstraint(
                condition=Q(term_end__gte=F("term_start")),
                name="council_member_term_order",
                violation_error_message=_("A term cannot end before it starts."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_seat_display()})"


class CouncilMeeting(TimeStampedModel):
    """A sitting of the Council: when, its agenda, and (once held) its minutes and who
    attended."""

    held_on = models.DateField(_("date"))
    title = models.CharField(_("title"), max_length=200)
    location = models.CharField(_("place"), max_length=200, blank=True)
    agenda = models.TextField(_("agenda"), blank=True)
    minutes = models.TextField(_("minutes"), blank=True)

    class Meta:
        ordering = ["-held_on", "-id"]
        verbose_name = _("Council meeting")
        verbose_name_plural = _("Council meetings")

    def __str__(self) -> str:
        return f"{self.held_on}: {self.title}"


class MeetingAttendance(models.Model):
    """Whether one member was present at one meeting."""

    meeting = models.ForeignKey(CouncilMeeting, on_delete=models.CASCADE, related_name="attendance")
    member = models.ForeignKey(CouncilMember, on_delete=models.CASCADE, related_name="attendance")
    status = models.CharField(_("attendance"), max_length=10, choices=Attendance.choices)

    class Meta:
        ordering = ["member__seat"]
        verbose_name = _("attendance")
        verbose_name_plural = _("attendance")
        constraints = [
            models.UniqueConstraint(
                fields=["meeting", "member"], name="council_attendance_once_per_meeting"
            )
        ]

    def __str__(self) -> str:
        return f"{self.member} at {self.meeting}: {self.status}"


class Recommendation(TimeStampedModel):
    """An entry of the Council's register of recommendations: what it recommends, who
    owns the follow-through, by when, and where it stands. A recommendation on notifying
    provincial and sectoral CERTs is addressed to teams: their coordinators read it and
    record their follow-up."""

    reference = models.CharField(_("reference"), max_length=30, unique=True)
    kind = models.CharField(
        _("kind"),
        max_length=20,
        choices=RecommendationKind.choices,
        default=RecommendationKind.GENERAL,
    )
    title = models.CharField(_("title"), max_length=200)
    text = models.TextField(_("recommendation"))
    owner = models.CharField(
        _("owner"), max_length=200, help_text=_("Who carries it out: a ministry, a CERT, a body.")
    )
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=RecommendationStatus.choices,
        default=RecommendationStatus.OPEN,
        db_index=True,
    )
    due_date = models.DateField(_("due date"), null=True, blank=True)
    meeting = models.ForeignKey(
        CouncilMeeting,
        verbose_name=_("adopted at"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="recommendations",
    )
    addressed_teams = models.ManyToManyField(
        "tenancy.Team",
        verbose_name=_("addressed to CERTs"),
        blank=True,
        related_name="council_recommendations",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )

    class Meta:
        ordering = ["-id"]
        verbose_name = _("recommendation")
        verbose_name_plural = _("recommendations")

    def __str__(self) -> str:
        return f"{self.reference} {self.title}"


class RecommendationFollowUp(models.Model):
    """A dated note on what was done about a recommendation, by the Council's secretary
    or by a coordinator of a CERT it is addressed to; may move its status."""

    recommendation = models.ForeignKey(
        Recommendation, on_delete=models.CASCADE, related_name="follow_ups"
    )
    recorded_at = models.DateTimeField(_("recorded at"))
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    team = models.ForeignKey(
        "tenancy.Team",
        verbose_name=_("for CERT"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    text = models.TextField(_("follow-up"))
    status_before = models.CharField(max_length=20, choices=RecommendationStatus.choices)
    status_after = models.CharField(max_length=20, choices=RecommendationStatus.choices)

    class Meta:
        ordering = ["recorded_at", "id"]
        verbose_name = _("follow-up")
        verbose_name_plural = _("follow-ups")

    def __str__(self) -> str:
        return f"{self.recommendation.reference} @ {self.recorded_at:%Y-%m-%d}"


class Dispute(TimeStampedModel):
    """A disagreement between CERTs brought to the Council (who handles an incident,
    who notifies whom, a sharing refusal): the parties, the subject, the Council's
    decision and where it stands."""

    reference = models.CharField(_("reference"), max_length=30, unique=True)
    subject = models.CharField(_("subject"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    parties = models.ManyToManyField(
        "tenancy.Team", verbose_name=_("parties"), related_name="council_disputes"
    )
    raised_on = models.DateField(_("raised on"))
    status = models.CharField(
        _("status"), max_length=20, choices=DisputeStatus.choices, default=DisputeStatus.OPEN
    )
    decision = models.TextField(_("decision"), blank=True)
    decided_on = models.DateField(_("decided on"), null=True, blank=True)
    meeting = models.ForeignKey(
        CouncilMeeting,
        verbose_name=_("decided at"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="disputes",
    )

    class Meta:
        ordering = ["-raised_on", "-id"]
        verbose_name = _("dispute")
        verbose_name_plural = _("disputes")

    def __str__(self) -> str:
        return f"{self.reference} {self.subject}"
