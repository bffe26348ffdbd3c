"""API of the constituency: who am I, teams, organizations, asset lookup."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Schema

from certhub.accounts.selectors import current_user
from certhub.tenancy.selectors import memberships_of
from certhub.tenancy.visibility import scope_for

router = Router(tags=["constituency"])


class SeatOut(Schema):
    slug: str
    name: str
    role: str


class MeOut(Schema):
    username: str
    email: str
    full_name: str
    time_zone: str
    is_admin: bool
    is_council: bool
    mfa_enabled: bool
    teams: list[SeatOut]
    organizations: list[SeatOut]


@router.get("/me", response=MeOut, summary="The signed-in user and its place in the constituency")
def me(request: HttpRequest) -> MeOut:
    user = current_user(request)
    scope = scope_for(user)
    teams, organizations = memberships_of(user)
    return MeOut(
        username=user.get_username(),
        email=user.email,
        full_name=user.get_full_name(),
        time_zone=user.time_zone,
        is_admin=scope.is_admin,
        is_council=scope.is_council,
        mfa_enabled=user.mfa_enabled,
        teams=[SeatOut(slug=t.slug, name=t.name, role=m.role) for m in teams if (t := m.team)],
        organizations=[
            SeatOut(slug=o.slug, name=o.name, role=m.role)
            for m in organizations
            if (o := m.organization)
        ],
    )
