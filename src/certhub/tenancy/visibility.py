"""The one tenancy helper behind every ``visible_to(user)`` selector (DESIGN.md section 3).

``scope_for(user)`` reads a user's memberships once per request (one query) and answers
the questions every selector asks: which subtrees of the tier tree does this user's team
cover, which organizations does it belong to, is it an admin or a Council member. The
selectors of every app turn those answers into query filters; nothing else decides who
sees what.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q

from certhub.tenancy.choices import OrgRole, TeamRole

_CACHE_ATTR = "_certhub_scope"

# Roles allowed to change things; viewers and reporters read (reporters also report).
TEAM_WRITE_ROLES = frozenset({TeamRole.COORDINATOR, TeamRole.ANALYST})
TEAM_COORDINATE_ROLES = frozenset({TeamRole.COORDINATOR})
ORG_ADMIN_ROLES = frozenset({OrgRole.ORG_ADMIN})


@dataclass(frozen=True)
class TeamSeat:
    team_id: int
    path: str
    role: str


@dataclass(frozen=True)
class Scope:
    """What one user's position in the constituency lets it reach."""

    user_id: int | None
    is_authenticated: bool = False
    is_admin: bool = False
    is_council: bool = False
    teams: tuple[TeamSeat, ...] = ()
    org_roles: dict[int, str] = field(default_factory=dict)
    # Responsible teams of the user's organizations, as paths: an organization member
    # may see the CERTs it reports to (its responsible team and that team's ancestors).
    org_team_paths: tuple[str, ...] = ()

    @property
    def team_ids(self) -> frozenset[int]:
        return frozenset(seat.team_id for seat in self.teams)

    @property
    def org_ids(self) -> frozenset[int]:
        return frozenset(self.org_roles)

    @property
    def is_cert_staff(self) -> bool:
        return bool(self.teams)

    @property
    def has_seat(self) -> bool:
        """A seat in the constituency: a team or an organization membership (a Council
        member or a new account has none)."""
        return bool(self.teams or self.org_roles)

    def subtree_q(self, team_field: str) -> Q:
        """Rows whose ``team_field`` (a Team foreign key) is one of the user's teams or
        below it. ``Q(pk__in=[])`` when the user has no team: matches nothing."""
        condition = Q(pk__in=[])
        for path in _outermost(seat.path for seat in self.teams):
            condition |= Q(**{f"{team_field}__path__startswith": path})
        return condition

    def covers_team_path(self, path: str) -> bool:
        """True when a team at ``path`` is one of the user's teams or below one."""
        return any(path.startswith(seat.path) for seat in self.teams)

    def role_in_team_over(self, path: str) -> str | None:
        """The user's strongest role in a team at or above ``path`` (None when none)."""
        roles = {seat.role for seat in self.teams if path.startswith(seat.path)}
        for role in (TeamRole.COORDINATOR, TeamRole.ANALYST, TeamRole.VIEWER):
            if role in roles:
                return role
        return None

    def ancestor_team_ids(self) -> set[int]:
        """Ids of the teams above the user's teams and its organizations' teams
        (the reporting line a user may see and escalate along)."""
        ids: set[int] = set()
        for path in [seat.path for seat in self.teams] + list(self.org_team_paths):
            ids.update(int(part) for part in path.strip("/").split("/") if part)
        return ids


ANONYMOUS = Scope(user_id=None)


def _outermost(paths: Any) -> list[str]:
    """Drop paths already covered by a shorter one (a member of both a team and its child)."""
    kept: list[str] = []
    for path in sorted(set(paths), key=len):
        if not any(path.startswith(k) for k in kept):
            kept.append(path)
    return kept


def scope_for(user: Any) -> Scope:
    """The user's scope, computed once and kept on the user object for the request."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return ANONYMOUS
    cached = getattr(user, _CACHE_ATTR, None)
    if cached is not None:
        return cached
    from certhub.tenancy.models import Membership

    teams: list[TeamSeat] = []
    org_roles: dict[int, str] = {}
    org_team_paths: list[str] = []
    rows = Membership.objects.filter(user_id=user.pk).values_list(
        "team_id", "team__path", "organization_id", "organization__responsible_team__path", "role"
    )
    for team_id, team_path, org_id, org_team_path, role in rows:
        if team_id is not None:
            teams.append(TeamSeat(team_id=team_id, path=team_path, role=role))
        elif org_id is not None:
            org_roles[org_id] = role
            org_team_paths.append(org_team_path)
    scope = Scope(
        user_id=user.pk,
        is_authenticated=True,
        is_admin=bool(user.is_superuser),
        is_council=bool(getattr(user, "is_council", False)),
        teams=tuple(teams),
        org_roles=org_roles,
        org_team_paths=tuple(org_team_paths),
    )
    setattr(user, _CACHE_ATTR, scope)
    return scope


def forget_scope(user: Any) -> None:
    """Drop the cached scope after the user's memberships changed."""
    if hasattr(user, _CACHE_ATTR):
        delattr(user, _CACHE_ATTR)
