"""Every write of the CERT Council's records, and the CII review reminders. Keyword-only,
one transaction each, audited inside it.

The Council's chair and secretary (and platform admins) keep the records; a
coordinator of a CERT a recommendation is addressed to records its follow-up."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from certhub.audit import services as audit
from certhub.awareness.council_choices import (
    CLOSED_RECOMMENDATION_STATUSES,
    Attendance,
    CouncilSeat,
    DisputeStatus,
    RecommendationKind,
    RecommendationStatus,
)
from certhub.awareness.council_models import (
    CouncilMeeting,
    CouncilMember,
    Dispute,
    MeetingAttendance,
    Recommendation,
    RecommendationFollowUp,
)
from certhub.awareness.council_selectors import (
    council_access,
    current_terms,
    follow_up_team_for,
    forget_council_access,
    today,
)
from certhub.core.errors import Conflict, Forbidden, Invalid, NotFound
from certhub.notify.services import queue_mail
from certhub.tenancy import selectors as tenancy_selectors
from certhub.tenancy.models import Team
from certhub.tenancy.tlp import TLP

MEETING_FIELDS = ["held_on", "title", "location", "agenda", "minutes"]
RECOMMENDATION_FIELDS = ["title", "text", "owner", "status", "due_date", "kind", "meeting_id"]


def _require_keeper(actor: Any) -> None:
    if not council_access(actor).writes:
        if council_access(actor).reads:
            raise Forbidden(_("Only the Council's chair or secretary keeps its records."))
        raise NotFound(_("No such Council record."))


def _clean(instance: Any, *, exclude: list[str] | None = None) -> None:
    try:
        instance.full_clean(exclude=exclude)
    except ValidationError as exc:
        raise Invalid(" ".join(exc.messages)) from exc


def _next_reference(model: Any, prefix: str, year: int) -> str:
    stem = f"{prefix}-{year}-"
    last = (
        model.objects.filter(reference__startswith=stem)
        .order_by("-reference")
        .values_list("reference", flat=True)
        .first()
    )
    number = int(last.removeprefix(stem)) + 1 if last else 1
    return f"{stem}{number:03d}"


def _save_new(instance: Any) -> None:
    try:
        with transaction.atomic():
            instance.save()
    except IntegrityError as exc:  # a concurrent writer took the same reference
        raise Conflict(_("Someone else saved at the same moment; try again.")) from exc


# --- Members -------------------------------------------------------------------------


def _sync_council_flag(*, actor: Any, user: Any) -> None:
    """``is_council`` (what the aggregate pages check) follows the terms: on while one
    runs, off once the last has ended."""
    active = current_terms().filter(user_id=user.pk).exists()
    if bool(user.is_council) == active:
        return
    get_user_model().objects.filter(pk=user.pk).update(is_council=active)
    user.is_council = active
    forget_council_access(user)
    audit.record(
        actor=actor, action="user.update", obj=user, changes={"is_council": [not active, active]}
    )


@transaction.atomic
def appoint_member(
    *,
    actor: Any,
    user: Any,
    seat: str,
    term_start: dt.date,
    term_end: dt.date,
    organization_name: str = "",
) -> CouncilMember:
    """Give ``user`` a term in ``seat``. One person holds one seat at a time, and the
    chair and the secretary have one holder at a time."""
    _require_keeper(actor)
    if seat not in CouncilSeat.values:
        raise Invalid(_("Unknown seat %(seat)s.") % {"seat": seat})
    overlapping = CouncilMember.objects.filter(term_start__lte=term_end, term_end__gte=term_start)
    if overlapping.filter(user=user).exists():
        raise Conflict(_("%(user)s already has a term in that period.") % {"user": user})
    if (
        seat in (CouncilSeat.CHAIR, CouncilSeat.SECRETARY)
        and overlapping.filter(seat=seat).exists()
    ):
        raise Conflict(_("That seat is already held in that period."))
    member = CouncilMember(
        user=user,
        seat=seat,
        term_start=term_start,
        term_end=term_end,
        organization_name=organization_name.strip(),
    )
    _clean(member, exclude=["user"])
    member.save()
    audit.record(
        actor=actor,
        action="council_member.appoint",
        obj=member,
        changes={
            "user": [None, user.get_username()],
            "seat": [None, seat],
            "term_start": [None, term_start],
            "term_end": [None, term_end],
        },
    )
    _sync_council_flag(actor=actor, user=user)
    return member


@transaction.atomic
def end_term(*, actor: Any, member: CouncilMember, ended_on: dt.date) -> CouncilMember:
    """End a term early (resignation, replacement): access ends after ``ended_on``."""
    _require_keeper(actor)
    if ended_on < member.term_start:
        raise Invalid(_("A term cannot end before it starts."))
    if ended_on >= member.term_end:
        raise Invalid(_("The term already ends on %(day)s.") % {"day": member.term_end})
    before = member.term_end
    member.term_end = ended_on
    member.save(update_fields=["term_end", "updated_at"])
    audit.record(
        actor=actor,
        action="council_member.end_term",
        obj=member,
        changes={"term_end": [before, ended_on]},
    )
    _sync_council_flag(actor=actor, user=member.user)
    return member


@transaction.atomic
def sync_council_flags(*, actor: Any = None) -> int:
    """The daily pass: switch ``is_council`` off for people whose last term has ended
    (and on for those whose term has begun). Returns how many changed."""
    users = get_user_model().objects
    active_ids = set(current_terms().values_list("user_id", flat=True))
    changed = 0
    for user in users.filter(is_council=True).exclude(pk__in=active_ids):
        _sync_council_flag(actor=actor, user=user)
        changed += 1
    for user in users.filter(pk__in=active_ids, is_council=False):
        _sync_council_flag(actor=actor, user=user)
        changed += 1
    return changed


# --- Meetings --------------------------------------------------------------------------


@transaction.atomic
def schedule_meeting(
    *,
    actor: Any,
    held_on: dt.date,
    title: str,
    location: str = "",
    agenda: str = "",
    minutes: str = "",
) -> CouncilMeeting:
    _require_keeper(actor)
    meeting = CouncilMeeting(
        held_on=held_on, title=title.strip(), location=location, agenda=agenda, minutes=minutes
    )
    _clean(meeting)
    meeting.save()
    audit.record(
        actor=actor,
        action="council_meeting.create",
        obj=meeting,
        changes=audit.diff({}, audit.snapshot(meeting, MEETING_FIELDS)),
    )
    return meeting


@transaction.atomic
def update_meeting(*, actor: Any, meeting: CouncilMeeting, **values: Any) -> CouncilMeeting:
    """Change a meeting's date, title, place, agenda or minutes."""
    _require_keeper(actor)
    unknown = set(values) - set(MEETING_FIELDS)
    if unknown:
        raise Invalid(_("Unknown meeting fields: %(f)s") % {"f": ", ".join(sorted(unknown))})
    before = audit.snapshot(meeting, MEETING_FIELDS)
    for name, value in values.items():
        setattr(meeting, name, value)
    _clean(meeting)
    changes = audit.diff(before, audit.snapshot(meeting, MEETING_FIELDS))
    if changes:
        meeting.save()
        audit.record(actor=actor, action="council_meeting.update", obj=meeting, changes=changes)
    return meeting


@transaction.atomic
def record_attendance(
    *, actor: Any, meeting: CouncilMeeting, attendance: Mapping[int, str]
) -> list[MeetingAttendance]:
    """Who attended (member id -> present, excused or absent). Only members whose term
    covers the meeting's date can be recorded."""
    _require_keeper(actor)
    bad = sorted({status for status in attendance.values() if status not in Attendance.values})
    if bad:
        raise Invalid(_("Unknown attendance: %(s)s.") % {"s": ", ".join(bad)})
    members = {
        m.pk: m
        for m in current_terms(meeting.held_on)
        .filter(pk__in=list(attendance))
        .select_related("user")
    }
    missing = sorted(set(attendance) - set(members))
    if missing:
        raise Invalid(_("These people were not Council members on the meeting's date."))
    existing = {row.member_id: row for row in meeting.attendance.all()}
    changes: dict[str, list[Any]] = {}
    for member_id, status in attendance.items():
        row = existing.get(member_id)
        if row is None:
            MeetingAttendance.objects.create(meeting=meeting, member_id=member_id, status=status)
            changes[members[member_id].user.get_username()] = [None, status]
        elif row.status != status:
            changes[members[member_id].user.get_username()] = [row.status, status]
            row.status = status
            row.save(update_fields=["status"])
    if changes:
        audit.record(actor=actor, action="council_meeting.attendance", obj=meeting, changes=changes)
    return list(meeting.attendance.select_related("member", "member__user"))


# --- Recommendations ---------------------------------------------------------------------


@transaction.atomic
def add_recommendation(
    *,
    actor: Any,
    title: str,
    text: str,
    owner: str,
    kind: str = RecommendationKind.GENERAL,
    due_date: dt.date | None = None,
    meeting: CouncilMeeting | None = None,
    addressed_teams: Iterable[Team] = (),
) -> Recommendation:
    """Enter a recommendation in the register. One on notifying CERTs names the CERTs
    it is addressed to; their coordinators then see it and record follow-up."""
    _require_keeper(actor)
    teams = list(addressed_teams)
    if kind not in RecommendationKind.values:
        raise Invalid(_("Unknown kind of recommendation %(k)s.") % {"k": kind})
    if kind == RecommendationKind.CERT_NOTIFICATION and not teams:
        raise Invalid(_("Name the CERTs a recommendation on notifying CERTs is addressed to."))
    if kind == RecommendationKind.GENERAL and teams:
        raise Invalid(_("Only a recommendation on notifying CERTs is addressed to CERTs."))
    recommendation = Recommendation(
        reference=_next_reference(Recommendation, "REC", today().year),
        kind=kind,
        title=title.strip(),
        text=text.strip(),
        owner=owner.strip(),
        due_date=due_date,
        meeting=meeting,
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    _clean(recommendation, exclude=["created_by"])
    _save_new(recommendation)
    recommendation.addressed_teams.set(teams)
    audit.record(
        actor=actor,
        action="recommendation.create",
        obj=recommendation,
        changes={
            **audit.diff({}, audit.snapshot(recommendation, RECOMMENDATION_FIELDS)),
            "addressed_teams": [None, sorted(team.slug for team in teams)],
        },
    )
    return recommendation


@transaction.atomic
def update_recommendation(
    *, actor: Any, recommendation: Recommendation, **values: Any
) -> Recommendation:
    """Change the register entry (title, text, owner, due date, status)."""
    _require_keeper(actor)
    allowed = {"title", "text", "owner", "due_date", "status"}
    unknown = set(values) - allowed
    if unknown:
        raise Invalid(_("Unknown recommendation fields: %(f)s") % {"f": ", ".join(sorted(unknown))})
    before = audit.snapshot(recommendation, RECOMMENDATION_FIELDS)
    for name, value in values.items():
        setattr(recommendation, name, value.strip() if isinstance(value, str) else value)
    _clean(recommendation, exclude=["created_by"])
    changes = audit.diff(before, audit.snapshot(recommendation, RECOMMENDATION_FIELDS))
    if changes:
        recommendation.save()
        audit.record(
            actor=actor, action="recommendation.update", obj=recommendation, changes=changes
        )
    return recommendation


# What a coordinator of an addressed CERT may report (the Council decides the rest).
FOLLOW_UP_STATUSES_FOR_CERTS = frozenset(
    {RecommendationStatus.IN_PROGRESS, RecommendationStatus.IMPLEMENTED}
)


@transaction.atomic
def add_follow_up(
    *, actor: Any, recommendation: Recommendation, text: str, status: str = ""
) -> RecommendationFollowUp:
    """Record what was done about a recommendation, optionally moving its status. The
    Council's keepers may set any status; a coordinator of an addressed CERT reports
    progress (in progress, implemented) on its CERT's behalf."""
    access = council_access(actor)
    team = None if access.writes else follow_up_team_for(actor, recommendation)
    if not access.writes and team is None:
        if access.reads:
            raise Forbidden(_("Only the Council's chair or secretary records follow-up here."))
        raise NotFound(_("No such Council record."))
    if not text.strip():
        raise Invalid(_("Write what was done."))
    if status and status not in RecommendationStatus.values:
        raise Invalid(_("Unknown status %(s)s.") % {"s": status})
    if status and team is not None and status not in FOLLOW_UP_STATUSES_FOR_CERTS:
        raise Forbidden(_("A CERT reports progress; the Council closes or rejects."))
    locked = Recommendation.objects.select_for_update().get(pk=recommendation.pk)
    if team is not None and locked.status in CLOSED_RECOMMENDATION_STATUSES:
        raise Conflict(_("This recommendation is closed."))
    before = locked.status
    after = status or before
    follow_up = RecommendationFollowUp.objects.create(
        recommendation=locked,
        recorded_at=timezone.now(),
        author=actor if getattr(actor, "pk", None) else None,
        team=team,
        text=text.strip(),
        status_before=before,
        status_after=after,
    )
    if after != before:
        locked.status = after
        locked.save(update_fields=["status", "updated_at"])
        recommendation.status = after
    audit.record(
        actor=actor,
        action="recommendation.follow_up",
        obj=locked,
        changes={
            "follow_up": [None, follow_up.text],
            **({"status": [before, after]} if after != before else {}),
            **({"team": [None, team.slug]} if team is not None else {}),
        },
    )
    return follow_up


# --- Disputes ------------------------------------------------------------------------


@transaction.atomic
def open_dispute(
    *,
    actor: Any,
    subject: str,
    parties: Iterable[Team],
    raised_on: dt.date,
    description: str = "",
) -> Dispute:
    """Enter a dispute between two or more CERTs."""
    _require_keeper(actor)
    teams = list({team.pk: team for team in parties}.values())
    if len(teams) < 2:
        raise Invalid(_("A dispute has at least two CERTs as parties."))
    dispute = Dispute(
        reference=_next_reference(Dispute, "DSP", raised_on.year),
        subject=subject.strip(),
        description=description.strip(),
        raised_on=raised_on,
    )
    _clean(dispute)
    _save_new(dispute)
    dispute.parties.set(teams)
    audit.record(
        actor=actor,
        action="dispute.create",
        obj=dispute,
        changes={
            "subject": [None, dispute.subject],
            "parties": [None, sorted(team.slug for team in teams)],
            "raised_on": [None, raised_on],
        },
    )
    return dispute


@transaction.atomic
def decide_dispute(
    *,
    actor: Any,
    dispute: Dispute,
    status: str,
    decision: str = "",
    decided_on: dt.date | None = None,
    meeting: CouncilMeeting | None = None,
) -> Dispute:
    """Move a dispute on: under review, decided (with the decision and its date),
    or withdrawn."""
    _require_keeper(actor)
    if status not in DisputeStatus.values:
        raise Invalid(_("Unknown status %(s)s.") % {"s": status})
    if status == DisputeStatus.DECIDED and not decision.strip():
        raise Invalid(_("Write the Council's decision."))
    fields = ["status", "decision", "decided_on", "meeting_id"]
    before = audit.snapshot(dispute, fields)
    dispute.status = status
    if decision.strip():
        dispute.decision = decision.strip()
    if status == DisputeStatus.DECIDED:
        dispute.decided_on = decided_on or (meeting.held_on if meeting else today())
    if meeting is not None:
        dispute.meeting = meeting
    _clean(dispute)
    changes = audit.diff(before, audit.snapshot(dispute, fields))
    if changes:
        dispute.save()
        audit.record(actor=actor, action="dispute.update", obj=dispute, changes=changes)
    return dispute


# --- CII review reminders -----------------------------------------------------------------


@dataclass(frozen=True)
class ReminderOutcome:
    upcoming: int
    overdue: int


def _days_before() -> int:
    return int(getattr(settings, "CERTHUB_CII_REVIEW_REMINDER_DAYS", 30))


def send_cii_review_reminders(*, on: dt.date | None = None) -> ReminderOutcome:
    """Mail the CII CERT about designations whose annual review is near (within
    CERTHUB_CII_REVIEW_REMINDER_DAYS, default 30) or overdue: one message per
    organization per review date and per stage, however often this runs (dedup key)."""
    day = on or today()
    recipients = tenancy_selectors.cii_cert_recipients()
    upcoming = overdue = 0
    for org in tenancy_selectors.cii_reviews_due(today=day, days_before=_days_before()):
        review = org.cii_review_date
        assert review is not None  # the selector keeps only dated reviews
        late = review < day
        stage = "overdue" if late else "upcoming"
        values = {"org": org.name, "day": review.isoformat(), "grade": org.cii_grade}
        if late:
            subject = _("CII review overdue: %(org)s (due %(day)s)") % values
            opening = _("The annual CII review of %(org)s (grade %(grade)s) was due on %(day)s.")
        else:
            subject = _("CII review due on %(day)s: %(org)s") % values
            opening = _("The annual CII review of %(org)s (grade %(grade)s) is due on %(day)s.")
        body = "\n\n".join(
            [
                opening % values,
                _(
                    "Review the designation and its grade with the designating authority, "
                    "then record the review in the CII registry:"
                ),
                f"{settings.CERTHUB_BASE_URL}/directory/cii/{org.slug}/",
            ]
        )
        with transaction.atomic():
            mail = queue_mail(
                to=recipients,
                subject=subject,
                body=body,
                tlp=TLP.AMBER,
                kind="cii_review",
                dedup_key=f"cii-review:{org.pk}:{review.isoformat()}:{stage}",
            )
        if mail is not None:
            if late:
                overdue += 1
            else:
                upcoming += 1
    return ReminderOutcome(upcoming=upcoming, overdue=overdue)
