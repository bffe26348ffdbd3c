"""Every read of the CERT Council's records, scoped (DESIGN.md section 3, rule 4).

Who reads what:
- the Council's members, while a term runs, read everything here (members, meetings,
  the register of recommendations, disputes), and never an incident;
- the chair and the secretary (and platform admins) also write;
- coordinators of the National CERT read everything (the Council advises them);
- a coordinator of another CERT reads the recommendations addressed to its CERT, and
  the disputes its CERT is a party to;
- anyone else: "not found".
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from certhub.awareness.council_choices import COUNCIL_WRITE_SEATS, RecommendationKind
from certhub.awareness.council_models import (
    CouncilMeeting,
    CouncilMember,
    Dispute,
    MeetingAttendance,
    Recommendation,
    RecommendationFollowUp,
)
from certhub.core.errors import NotFound
from certhub.tenancy.choices import TeamKind, TeamRole
from certhub.tenancy.models import Team
from certhub.tenancy.visibility import scope_for

_CACHE_ATTR = "_certhub_council_access"


@dataclass(frozen=True)
class CouncilAccess:
    """What one user may do with the Council's records (computed once per request)."""

    reads: bool = False
    writes: bool = False
    is_member: bool = False
    # Teams the user coordinates: it reads the recommendations addressed to them.
    coordinated_team_ids: frozenset[int] = frozenset()

    @property
    def reaches_anything(self) -> bool:
        return self.reads or bool(self.coordinated_team_ids)


def today() -> dt.date:
    return timezone.localdate(timezone.now(), dt.UTC)


def current_terms(on: dt.date | None = None) -> QuerySet[CouncilMember]:
    day = on or today()
    return CouncilMember.objects.filter(term_start__lte=day, term_end__gte=day)


def council_access(user: Any) -> CouncilAccess:
    scope = scope_for(user)
    if not scope.is_authenticated:
        return CouncilAccess()
    cached = getattr(user, _CACHE_ATTR, None)
    if cached is not None:
        return cached
    seats = set(current_terms().filter(user_id=user.pk).values_list("seat", flat=True))
    coordinated = frozenset(
        seat.team_id for seat in scope.teams if seat.role == TeamRole.COORDINATOR
    )
    national_coordinator = bool(coordinated) and (
        Team.objects.filter(pk__in=coordinated, kind=TeamKind.NATIONAL).exists()
    )
    access = CouncilAccess(
        reads=scope.is_admin or bool(seats) or national_coordinator,
        writes=scope.is_admin or bool(seats & COUNCIL_WRITE_SEATS),
        is_member=bool(seats),
        coordinated_team_ids=coordinated,
    )
    setattr(user, _CACHE_ATTR, access)
    return access


def forget_council_access(user: Any) -> None:
    if hasattr(user, _CACHE_ATTR):
        delattr(user, _CACHE_ATTR)


def _not_found() -> NotFound:
    return NotFound(_("No such Council record."))


def require_reader(user: Any) -> CouncilAccess:
    """The user's access when it may read the Council's own records; NotFound otherwise."""
    access = council_access(user)
    if not access.reads:
        raise _not_found()
    return access


# --- Members and meetings ---------------------------------------------------------------


def members_visible_to(user: Any) -> QuerySet[CouncilMember]:
    members = CouncilMember.objects.select_related("user")
    return members if council_access(user).reads else members.none()


def get_member(user: Any, member_id: int) -> CouncilMember:
    member = members_visible_to(user).filter(pk=member_id).first()
    if member is None:
        raise _not_found()
    return member


def meetings_visible_to(user: Any) -> QuerySet[CouncilMeeting]:
    meetings = CouncilMeeting.objects.all()
    return meetings if council_access(user).reads else meetings.none()


def get_meeting(user: Any, meeting_id: int) -> CouncilMeeting:
    """One meeting with its attendance (and the members attending) prefetched."""
    meeting = (
        meetings_visible_to(user)
        .prefetch_related(
            Prefetch(
                "attendance",
                queryset=MeetingAttendance.objects.select_related("member", "member__user"),
            ),
            Prefetch("recommendations", queryset=Recommendation.objects.order_by("id")),
        )
        .filter(pk=meeting_id)
        .first()
    )
    if meeting is None:
        raise _not_found()
    return meeting


# --- Recommendations ---------------------------------------------------------------------


def recommendations_visible_to(user: Any) -> QuerySet[Recommendation]:
    """The register for Council readers; for other coordinators, the recommendations on
    notifying CERTs that are addressed to a CERT they coordinate."""
    access = council_access(user)
    recommendations = Recommendation.objects.select_related("meeting").prefetch_related(
        Prefetch("addressed_teams", queryset=Team.objects.order_by("name"))
    )
    if access.reads:
        return recommendations
    if not access.coordinated_team_ids:
        return recommendations.none()
    addressed = Recommendation.objects.filter(
        kind=RecommendationKind.CERT_NOTIFICATION,
        addressed_teams__in=sorted(access.coordinated_team_ids),
    ).values("pk")
    return recommendations.filter(pk__in=addressed)


def recommendations_matching(
    user: Any, *, status: str = "", kind: str = "", q: str = ""
) -> QuerySet[Recommendation]:
    recommendations = recommendations_visible_to(user)
    if status:
        recommendations = recommendations.filter(status=status)
    if kind:
        recommendations = recommendations.filter(kind=kind)
    if q.strip():
        text = q.strip()
        recommendations = recommendations.filter(
            Q(title__icontains=text) | Q(reference__icontains=text) | Q(owner__icontains=text)
        )
    return recommendations


def get_recommendation(user: Any, recommendation_id: int) -> Recommendation:
    recommendation = (
        recommendations_visible_to(user)
        .prefetch_related(
            Prefetch(
                "follow_ups",
                queryset=RecommendationFollowUp.objects.select_related("author", "team"),
            )
        )
        .filter(pk=recommendation_id)
        .first()
    )
    if recommendation is None:
        raise _not_found()
    return recommendation


def follow_up_team_for(user: Any, recommendation: Recommendation) -> Team | None:
    """The addressed CERT on whose behalf ``user`` records follow-up (one it
    coordinates), or None."""
    ids = council_access(user).coordinated_team_ids
    if not ids or recommendation.kind != RecommendationKind.CERT_NOTIFICATION:
        return None
    return recommendation.addressed_teams.filter(pk__in=sorted(ids)).order_by("name").first()


def may_follow_up(user: Any, recommendation: Recommendation) -> bool:
    return council_access(user).writes or follow_up_team_for(user, recommendation) is not None


# --- Disputes ------------------------------------------------------------------------


def disputes_visible_to(user: Any) -> QuerySet[Dispute]:
    """Every dispute for Council readers; for other coordinators, those their CERT is a
    party to."""
    access = council_access(user)
    disputes = Dispute.objects.select_related("meeting").prefetch_related(
        Prefetch("parties", queryset=Team.objects.order_by("name"))
    )
    if access.reads:
        return disputes
    if not access.coordinated_team_ids:
        return disputes.none()
    involved = Dispute.objects.filter(parties__in=sorted(access.coordinated_team_ids)).values("pk")
    return disputes.filter(pk__in=involved)


def get_dispute(user: Any, dispute_id: int) -> Dispute:
    dispute = disputes_visible_to(user).filter(pk=dispute_id).first()
    if dispute is None:
        raise _not_found()
    return dispute


def council_teams() -> QuerySet[Team]:
    """The CERTs the Council may address or name as parties: every team of the tree."""
    return Team.objects.order_by("path")
