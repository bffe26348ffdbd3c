"""API of the CERT Council (under /api/v1/council/): members, meetings, the register of
recommendations with follow-up, and disputes between CERTs.

Reads follow the council selectors: Council members in office, National CERT
coordinators and admins read everything; a coordinator of another CERT reads the
recommendations addressed to it and the disputes it is a party to; anyone else gets 404.
The chair and the secretary write; a coordinator of an addressed CERT records follow-up.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Path, Query, Router, Schema, Status
from pydantic import Field

from certhub.accounts.selectors import current_user
from certhub.awareness import council_selectors as selectors
from certhub.awareness import council_services as services
from certhub.awareness.council_choices import RecommendationKind, RecommendationStatus
from certhub.awareness.council_models import (
    CouncilMeeting,
    CouncilMember,
    Dispute,
    Recommendation,
    RecommendationFollowUp,
)
from certhub.core.errors import Invalid, NotFound
from certhub.core.pagination import DEFAULT_LIMIT, MAX_LIMIT, paginate
from certhub.tenancy.models import Team

router = Router(tags=["council"])

TEXT = r"^[^\x00]*$"  # PostgreSQL refuses NUL bytes: refuse them at the door
SLUG = r"^[-a-zA-Z0-9_]+$"
MAX_ID = 2**31 - 1
STATUS_PATTERN = f"^({'|'.join(RecommendationStatus.values)})$"
KIND_PATTERN = f"^({'|'.join(RecommendationKind.values)})$"
LIMIT_HELP = f"Items per page, 1 to {MAX_LIMIT}."
CURSOR_HELP = "The `next_cursor` of the previous page; omit for the first page."


class ErrorOut(Schema):
    detail: str


READ_ERRORS = {400: ErrorOut, 401: ErrorOut, 404: ErrorOut, 422: ErrorOut}
WRITE_ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut,
                422: ErrorOut}  # fmt: skip


class MemberOut(Schema):
    id: int
    username: str
    name: str
    seat: str
    represents: str
    term_start: dt.date
    term_end: dt.date
    in_office: bool


class MemberPage(Schema):
    items: list[MemberOut]
    next_cursor: str | None


class AttendanceOut(Schema):
    member_id: int
    username: str
    seat: str
    status: str


class MeetingOut(Schema):
    id: int
    held_on: dt.date
    title: str
    location: str
    agenda: str
    minutes: str


class MeetingDetailOut(MeetingOut):
    attendance: list[AttendanceOut]
    recommendations: list[str]


class MeetingPage(Schema):
    items: list[MeetingOut]
    next_cursor: str | None


class FollowUpOut(Schema):
    recorded_at: dt.datetime
    author: str | None
    team: str | None
    text: str
    status_before: str
    status_after: str


class RecommendationOut(Schema):
    id: int
    reference: str
    kind: str
    title: str
    text: str
    owner: str
    status: str
    due_date: dt.date | None
    meeting_id: int | None
    addressed_teams: list[str]


class RecommendationDetailOut(RecommendationOut):
    follow_ups: list[FollowUpOut]


class RecommendationPage(Schema):
    items: list[RecommendationOut]
    next_cursor: str | None


class RecommendationIn(Schema):
    title: str = Field(..., min_length=1, max_length=200, pattern=TEXT)
    text: str = Field(..., min_length=1, max_length=20_000, pattern=TEXT)
    owner: str = Field(..., min_length=1, max_length=200, pattern=TEXT)
    kind: RecommendationKind = RecommendationKind.GENERAL
    due_date: dt.date | None = None
    meeting_id: int | None = Field(None, ge=1, le=MAX_ID)
    addressed_teams: list[str] = Field(
        default_factory=list, max_length=100, description="Team slugs (for `cert_notification`)."
    )


class RecommendationPatch(Schema):
    title: str | None = Field(None, min_length=1, max_length=200, pattern=TEXT)
    text: str | None = Field(None, min_length=1, max_length=20_000, pattern=TEXT)
    owner: str | None = Field(None, min_length=1, max_length=200, pattern=TEXT)
    status: RecommendationStatus | None = None
    due_date: dt.date | None = None


class FollowUpIn(Schema):
    text: str = Field(..., min_length=1, max_length=20_000, pattern=TEXT)
    status: RecommendationStatus | None = Field(
        None, description="The status after this follow-up; omit to leave it."
    )


class DisputeOut(Schema):
    id: int
    reference: str
    subject: str
    description: str
    parties: list[str]
    raised_on: dt.date
    status: str
    decision: str
    decided_on: dt.date | None
    meeting_id: int | None


class DisputePage(Schema):
    items: list[DisputeOut]
    next_cursor: str | None


class DisputeIn(Schema):
    subject: str = Field(..., min_length=1, max_length=200, pattern=TEXT)
    description: str = Field("", max_length=20_000, pattern=TEXT)
    parties: list[str] = Field(..., min_length=2, max_length=50, description="Team slugs.")
    raised_on: dt.date


# --- Presentation ----------------------------------------------------------------------


def _member(member: CouncilMember) -> dict[str, Any]:
    day = selectors.today()
    return {
        "id": member.pk,
        "username": member.user.get_username(),
        "name": member.user.get_full_name(),
        "seat": member.seat,
        "represents": member.organization_name,
        "term_start": member.term_start,
        "term_end": member.term_end,
        "in_office": member.term_start <= day <= member.term_end,
    }


def _meeting(meeting: CouncilMeeting) -> dict[str, Any]:
    return {
        "id": meeting.pk,
        "held_on": meeting.held_on,
        "title": meeting.title,
        "location": meeting.location,
        "agenda": meeting.agenda,
        "minutes": meeting.minutes,
    }


def _recommendation(rec: Recommendation) -> dict[str, Any]:
    return {
        "id": rec.pk,
        "reference": rec.reference,
        "kind": rec.kind,
        "title": rec.title,
        "text": rec.text,
        "owner": rec.owner,
        "status": rec.status,
        "due_date": rec.due_date,
        "meeting_id": rec.meeting_id,
        "addressed_teams": [team.slug for team in rec.addressed_teams.all()],
    }


def _follow_up(item: RecommendationFollowUp) -> dict[str, Any]:
    return {
        "recorded_at": item.recorded_at,
        "author": item.author.get_username() if item.author else None,
        "team": item.team.slug if item.team else None,
        "text": item.text,
        "status_before": item.status_before,
        "status_after": item.status_after,
    }


def _dispute(dispute: Dispute) -> dict[str, Any]:
    return {
        "id": dispute.pk,
        "reference": dispute.reference,
        "subject": dispute.subject,
        "description": dispute.description,
        "parties": [team.slug for team in dispute.parties.all()],
        "raised_on": dispute.raised_on,
        "status": dispute.status,
        "decision": dispute.decision,
        "decided_on": dispute.decided_on,
        "meeting_id": dispute.meeting_id,
    }


def _teams(slugs: list[str]) -> list[Team]:
    wanted = sorted(set(slugs))
    teams = list(selectors.council_teams().filter(slug__in=wanted))
    unknown = sorted(set(wanted) - {team.slug for team in teams})
    if unknown:
        raise Invalid(_("Unknown CERTs: %(t)s.") % {"t": ", ".join(unknown)})
    return teams


# --- Members and meetings ---------------------------------------------------------------


@router.get(
    "/council/members",
    response={200: MemberPage, **READ_ERRORS},
    summary="The Council's members and their terms (Council readers only)",
)
def list_members(
    request: HttpRequest,
    limit: int = Query(DEFAULT_LIMIT, description=LIMIT_HELP),
    cursor: str | None = Query(None, description=CURSOR_HELP),
) -> dict[str, Any]:
    user = current_user(request)
    selectors.require_reader(user)
    page = paginate(selectors.members_visible_to(user), key="id", limit=limit, cursor=cursor)
    return {"items": [_member(m) for m in page.items], "next_cursor": page.next_cursor}


@router.get(
    "/council/meetings",
    response={200: MeetingPage, **READ_ERRORS},
    summary="The Council's meetings (Council readers only)",
)
def list_meetings(
    request: HttpRequest,
    limit: int = Query(DEFAULT_LIMIT, description=LIMIT_HELP),
    cursor: str | None = Query(None, description=CURSOR_HELP),
) -> dict[str, Any]:
    user = current_user(request)
    selectors.require_reader(user)
    page = paginate(selectors.meetings_visible_to(user), key="id", limit=limit, cursor=cursor)
    return {"items": [_meeting(m) for m in page.items], "next_cursor": page.next_cursor}


@router.get(
    "/council/meetings/{meeting_id}",
    response={200: MeetingDetailOut, **READ_ERRORS},
    summary="One meeting with its attendance and the recommendations adopted",
)
def meeting_detail(
    request: HttpRequest, meeting_id: int = Path(..., ge=1, le=MAX_ID)
) -> dict[str, Any]:
    meeting = selectors.get_meeting(current_user(request), meeting_id)
    return {
        **_meeting(meeting),
        "attendance": [
            {
                "member_id": row.member_id,
                "username": row.member.user.get_username(),
                "seat": row.member.seat,
                "status": row.status,
            }
            for row in meeting.attendance.all()
        ],
        "recommendations": [rec.reference for rec in meeting.recommendations.all()],
    }


# --- Recommendations -----------------------------------------------------------------


@router.get(
    "/council/recommendations",
    response={200: RecommendationPage, **READ_ERRORS},
    summary="The register of recommendations (for a CERT's coordinator: those addressed to it)",
)
def list_recommendations(
    request: HttpRequest,
    status: str | None = Query(None, pattern=STATUS_PATTERN, description="Only this status."),
    kind: str | None = Query(None, pattern=KIND_PATTERN, description="Only this kind."),
    limit: int = Query(DEFAULT_LIMIT, description=LIMIT_HELP),
    cursor: str | None = Query(None, description=CURSOR_HELP),
) -> dict[str, Any]:
    user = current_user(request)
    if not selectors.council_access(user).reaches_anything:
        raise NotFound(_("No such Council record."))
    rows = selectors.recommendations_matching(user, status=status or "", kind=kind or "")
    page = paginate(rows, key="id", limit=limit, cursor=cursor)
    return {"items": [_recommendation(r) for r in page.items], "next_cursor": page.next_cursor}


@router.get(
    "/council/recommendations/{recommendation_id}",
    response={200: RecommendationDetailOut, **READ_ERRORS},
    summary="One recommendation with its follow-up",
)
def recommendation_detail(
    request: HttpRequest, recommendation_id: int = Path(..., ge=1, le=MAX_ID)
) -> dict[str, Any]:
    rec = selectors.get_recommendation(current_user(request), recommendation_id)
    return {**_recommendation(rec), "follow_ups": [_follow_up(f) for f in rec.follow_ups.all()]}


@router.post(
    "/council/recommendations",
    response={201: RecommendationDetailOut, **WRITE_ERRORS},
    summary="Enter a recommendation in the register (the Council's chair or secretary)",
)
def create_recommendation(request: HttpRequest, payload: RecommendationIn) -> Status:
    user = current_user(request)
    selectors.require_reader(user)
    meeting = selectors.get_meeting(user, payload.meeting_id) if payload.meeting_id else None
    rec = services.add_recommendation(
        actor=user,
        title=payload.title,
        text=payload.text,
        owner=payload.owner,
        kind=payload.kind.value,
        due_date=payload.due_date,
        meeting=meeting,
        addressed_teams=_teams(payload.addressed_teams),
    )
    rec = selectors.get_recommendation(user, rec.pk)
    return Status(201, {**_recommendation(rec), "follow_ups": []})


@router.patch(
    "/council/recommendations/{recommendation_id}",
    response={200: RecommendationDetailOut, **WRITE_ERRORS},
    summary="Change a register entry (the Council's chair or secretary)",
)
def update_recommendation(
    request: HttpRequest,
    payload: RecommendationPatch,
    recommendation_id: int = Path(..., ge=1, le=MAX_ID),
) -> dict[str, Any]:
    user = current_user(request)
    rec = selectors.get_recommendation(user, recommendation_id)
    values = payload.model_dump(exclude_unset=True)
    if values.get("status") is not None:
        values["status"] = RecommendationStatus(values["status"]).value
    for name in ("title", "text", "owner", "status"):
        if name in values and values[name] is None:
            raise Invalid(_("%(field)s cannot be empty.") % {"field": name})
    services.update_recommendation(actor=user, recommendation=rec, **values)
    rec = selectors.get_recommendation(user, recommendation_id)
    return {**_recommendation(rec), "follow_ups": [_follow_up(f) for f in rec.follow_ups.all()]}


@router.post(
    "/council/recommendations/{recommendation_id}/follow-ups",
    response={201: FollowUpOut, **WRITE_ERRORS},
    summary="Record follow-up (the Council's keepers, or a coordinator of an addressed CERT)",
)
def add_follow_up(
    request: HttpRequest,
    payload: FollowUpIn,
    recommendation_id: int = Path(..., ge=1, le=MAX_ID),
) -> Status:
    user = current_user(request)
    rec = selectors.get_recommendation(user, recommendation_id)
    item = services.add_follow_up(
        actor=user,
        recommendation=rec,
        text=payload.text,
        status=payload.status.value if payload.status else "",
    )
    return Status(201, _follow_up(item))


# --- Disputes ------------------------------------------------------------------------


@router.get(
    "/council/disputes",
    response={200: DisputePage, **READ_ERRORS},
    summary="Disputes between CERTs (for a CERT's coordinator: those it is a party to)",
)
def list_disputes(
    request: HttpRequest,
    limit: int = Query(DEFAULT_LIMIT, description=LIMIT_HELP),
    cursor: str | None = Query(None, description=CURSOR_HELP),
) -> dict[str, Any]:
    user = current_user(request)
    if not selectors.council_access(user).reaches_anything:
        raise NotFound(_("No such Council record."))
    page = paginate(selectors.disputes_visible_to(user), key="id", limit=limit, cursor=cursor)
    return {"items": [_dispute(d) for d in page.items], "next_cursor": page.next_cursor}


@router.get(
    "/council/disputes/{dispute_id}",
    response={200: DisputeOut, **READ_ERRORS},
    summary="One dispute",
)
def dispute_detail(
    request: HttpRequest, dispute_id: int = Path(..., ge=1, le=MAX_ID)
) -> dict[str, Any]:
    return _dispute(selectors.get_dispute(current_user(request), dispute_id))


@router.post(
    "/council/disputes",
    response={201: DisputeOut, **WRITE_ERRORS},
    summary="Enter a dispute between CERTs (the Council's chair or secretary)",
)
def create_dispute(request: HttpRequest, payload: DisputeIn) -> Status:
    user = current_user(request)
    selectors.require_reader(user)
    for slug in payload.parties:
        if "\x00" in slug or len(slug) > 100:
            raise Invalid(_("Unknown CERTs: %(t)s.") % {"t": slug[:100]})
    dispute = services.open_dispute(
        actor=user,
        subject=payload.subject,
        description=payload.description,
        parties=_teams(payload.parties),
        raised_on=payload.raised_on,
    )
    return Status(201, _dispute(selectors.get_dispute(user, dispute.pk)))
