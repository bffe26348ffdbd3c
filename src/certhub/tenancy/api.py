"""API of the constituency: who am I, sectors, teams, organizations, asset lookup.

Every object is addressed by its slug and read through the tenancy selectors, so an
object the caller may not see answers 404 exactly like one that does not exist.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Path, Query, Router, Schema
from pydantic import Field

from certhub.accounts.selectors import current_user
from certhub.core.errors import Invalid
from certhub.core.pagination import DEFAULT_LIMIT, MAX_LIMIT, paginate
from certhub.tenancy.models import Asset, Organization, Team
from certhub.tenancy.selectors import (
    CIIRecord,
    cii_register,
    get_cii_record,
    get_organization_detail,
    get_team_detail,
    lookup_owner,
    memberships_of,
    organizations_matching,
    sectors_visible_to,
    teams_visible_to,
)
from certhub.tenancy.services import regrade_cii
from certhub.tenancy.visibility import scope_for

router = Router(tags=["constituency"])

# Slugs are validated before they reach the database (PostgreSQL refuses NUL bytes).
SLUG_PATTERN = r"^[-a-zA-Z0-9_]+$"
SLUG_FILTER_PATTERN = r"^[-a-zA-Z0-9_]*$"
TEXT_PATTERN = r"^[^\x00]*$"
LIMIT_HELP = f"Items per page, 1 to {MAX_LIMIT}."
CURSOR_HELP = "The `next_cursor` of the previous page; omit for the first page."


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


class SectorOut(Schema):
    slug: str
    name: str
    description: str


class SectorPage(Schema):
    items: list[SectorOut]
    next_cursor: str | None


class TeamOut(Schema):
    slug: str
    name: str
    kind: str
    parent: str | None

    @staticmethod
    def resolve_parent(team: Team) -> str | None:
        # The list selector joins the parent, so this costs no query.
        return team.parent.slug if team.parent_id and team.parent else None


class TeamPage(Schema):
    items: list[TeamOut]
    next_cursor: str | None


class TeamDetailOut(Schema):
    slug: str
    name: str
    kind: str
    parent: str | None
    description: str
    email: str
    phone: str
    ancestors: list[str]
    children: list[str]


class AssetOut(Schema):
    kind: str
    value: str
    description: str


class ContactOut(Schema):
    name: str
    role: str
    email: str
    phone: str
    pgp_fingerprint: str
    notifications: list[str]


class OrganizationOut(Schema):
    slug: str
    name: str
    sector: str
    province: str
    responsible_team: str
    is_cii: bool
    cii_grade: str
    cii_review_date: dt.date | None
    website: str
    is_active: bool

    @staticmethod
    def resolve_sector(org: Organization) -> str:
        return org.sector.slug

    @staticmethod
    def resolve_responsible_team(org: Organization) -> str:
        return org.responsible_team.slug


class OrganizationPage(Schema):
    items: list[OrganizationOut]
    next_cursor: str | None


class OrganizationDetailOut(OrganizationOut):
    description: str
    assets: list[AssetOut]
    contacts: list[ContactOut]


class OwnerOut(Schema):
    slug: str
    name: str
    sector: str
    responsible_team: str


class MatchedAssetOut(Schema):
    kind: str
    value: str


class LookupOut(Schema):
    organization: OwnerOut
    asset: MatchedAssetOut


class ErrorOut(Schema):
    detail: str


# Every operation needs a signed-in caller: 401 is part of each one's contract.
NOT_FOUND = {401: ErrorOut, 404: ErrorOut}
BAD_PAGE = {400: ErrorOut, 401: ErrorOut, 422: ErrorOut}


def _page(queryset: Any, limit: int, cursor: str | None) -> dict[str, Any]:
    page = paginate(queryset, key="slug", limit=limit, cursor=cursor)
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.get(
    "/me",
    response={200: MeOut, 401: ErrorOut},
    summary="The signed-in user and its place in the constituency",
)
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


@router.get(
    "/sectors", response={200: SectorPage, **BAD_PAGE}, summary="Sectors of the constituency"
)
def list_sectors(
    request: HttpRequest,
    limit: int = Query(DEFAULT_LIMIT, description=LIMIT_HELP),
    cursor: str | None = Query(None, description=CURSOR_HELP),
) -> dict[str, Any]:
    return _page(sectors_visible_to(current_user(request)), limit, cursor)


@router.get(
    "/teams",
    response={200: TeamPage, **BAD_PAGE},
    summary="CERTs you may see: your teams, the teams below them and your reporting line",
)
def list_teams(
    request: HttpRequest,
    limit: int = Query(DEFAULT_LIMIT, description=LIMIT_HELP),
    cursor: str | None = Query(None, description=CURSOR_HELP),
) -> dict[str, Any]:
    return _page(teams_visible_to(current_user(request)), limit, cursor)


@router.get(
    "/teams/{slug}",
    response={200: TeamDetailOut, 422: ErrorOut, **NOT_FOUND},
    summary="One CERT with its reporting line (root first) and the sub-teams you may see",
)
def team_detail(
    request: HttpRequest, slug: str = Path(..., pattern=SLUG_PATTERN)
) -> dict[str, Any]:
    detail = get_team_detail(current_user(request), slug)
    team = detail.team
    return {
        "slug": team.slug,
        "name": team.name,
        "kind": team.kind,
        "parent": team.parent.slug if team.parent else None,
        "description": team.description,
        "email": team.email,
        "phone": team.phone,
        "ancestors": [t.slug for t in detail.ancestors],
        "children": [t.slug for t in detail.children],
    }


@router.get(
    "/organizations",
    response={200: OrganizationPage, **BAD_PAGE},
    summary="Constituent organizations you may see",
)
def list_organizations(
    request: HttpRequest,
    sector: str = Query("", pattern=SLUG_FILTER_PATTERN, description="Only this sector (slug)."),
    team: str = Query(
        "",
        pattern=SLUG_FILTER_PATTERN,
        description="Only organizations handled by this team or a team below it (slug).",
    ),
    cii: bool | None = Query(None, description="Only CII (`true`) or only non-CII (`false`)."),
    q: str = Query(
        "", max_length=200, pattern=TEXT_PATTERN, description="Name or slug contains this text."
    ),
    limit: int = Query(DEFAULT_LIMIT, description=LIMIT_HELP),
    cursor: str | None = Query(None, description=CURSOR_HELP),
) -> dict[str, Any]:
    orgs = organizations_matching(current_user(request), sector=sector, team=team, cii=cii, q=q)
    return _page(orgs, limit, cursor)


@router.get(
    "/organizations/{slug}",
    response={200: OrganizationDetailOut, 422: ErrorOut, **NOT_FOUND},
    summary="One organization with its network assets and contacts",
)
def organization_detail(
    request: HttpRequest, slug: str = Path(..., pattern=SLUG_PATTERN)
) -> Organization:
    return get_organization_detail(current_user(request), slug)


@router.get(
    "/lookup",
    response={200: LookupOut, 400: ErrorOut, **NOT_FOUND},
    summary="Which organization owns an IP address, an AS number or a domain",
    description=(
        "Give exactly one of `ip` (longest-prefix match over IPv4 and IPv6 networks), "
        "`asn` (`AS64500` or `64500`) or `domain` (the longest registered suffix). "
        "404 when no organization you may see owns it."
    ),
)
def lookup(
    request: HttpRequest,
    ip: str = Query("", max_length=100),
    asn: str = Query("", max_length=30),
    domain: str = Query("", max_length=253),
) -> dict[str, Any]:
    asset: Asset = lookup_owner(current_user(request), ip=ip, asn=asn, domain=domain)
    org = asset.organization
    return {
        "organization": {
            "slug": org.slug,
            "name": org.name,
            "sector": org.sector.slug,
            "responsible_team": org.responsible_team.slug,
        },
        "asset": {"kind": asset.kind, "value": asset.value},
    }


# --- The CII registry ------------------------------------------------------------------

WRITE_ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut,
                422: ErrorOut}  # fmt: skip


class CIIDesignationOut(Schema):
    authority: str
    designated_on: dt.date
    decision_reference: str
    revoked_on: dt.date | None
    revocation_reason: str


class CIIGradeChangeOut(Schema):
    changed_at: dt.datetime
    changed_by: str | None
    old_grade: str
    new_grade: str
    method: str
    reason: str
    score: int | None
    answers: dict[str, str]


class CIIRecordOut(Schema):
    organization: str
    name: str
    sector: str
    is_cii: bool
    cii_grade: str
    cii_review_date: dt.date | None
    designations: list[CIIDesignationOut]
    history: list[CIIGradeChangeOut]


class CIIRegisterRow(Schema):
    organization: str
    name: str
    sector: str
    cii_grade: str
    cii_review_date: dt.date | None
    designated_by: str | None


class CIIRegisterPage(Schema):
    items: list[CIIRegisterRow]
    next_cursor: str | None


class CIIRegradeIn(Schema):
    grade: str = Field(
        "", pattern=r"^[123]?$", description="A grade set by hand (with a reason), or empty."
    )
    answers: dict[str, str] = Field(
        default_factory=dict,
        max_length=50,
        description="Criterion slug -> level slug, every active criterion answered.",
    )
    reason: str = Field("", max_length=2000, pattern=TEXT_PATTERN)


def _cii_record(record: CIIRecord) -> dict[str, Any]:
    org = record.organization
    return {
        "organization": org.slug,
        "name": org.name,
        "sector": org.sector.slug,
        "is_cii": org.is_cii,
        "cii_grade": org.cii_grade,
        "cii_review_date": org.cii_review_date,
        "designations": [
            {
                "authority": d.authority,
                "designated_on": d.designated_on,
                "decision_reference": d.decision_reference,
                "revoked_on": d.revoked_on,
                "revocation_reason": d.revocation_reason,
            }
            for d in record.designations
        ],
        "history": [
            {
                "changed_at": c.changed_at,
                "changed_by": c.changed_by.get_username() if c.changed_by else None,
                "old_grade": c.old_grade,
                "new_grade": c.new_grade,
                "method": c.method,
                "reason": c.reason,
                "score": c.score,
                "answers": c.answers,
            }
            for c in record.history
        ],
    }


@router.get(
    "/cii/organizations",
    response={200: CIIRegisterPage, **BAD_PAGE},
    summary="The CII registry: designated organizations you may see, with grade and review",
)
def cii_register_list(
    request: HttpRequest,
    limit: int = Query(DEFAULT_LIMIT, description=LIMIT_HELP),
    cursor: str | None = Query(None, description=CURSOR_HELP),
) -> dict[str, Any]:
    page = paginate(cii_register(current_user(request)), key="slug", limit=limit, cursor=cursor)
    return {
        "items": [
            {
                "organization": org.slug,
                "name": org.name,
                "sector": org.sector.slug,
                "cii_grade": org.cii_grade,
                "cii_review_date": org.cii_review_date,
                "designated_by": org.current_designations[0].authority
                if org.current_designations
                else None,
            }
            for org in page.items
        ],
        "next_cursor": page.next_cursor,
    }


@router.get(
    "/cii/organizations/{slug}",
    response={200: CIIRecordOut, 422: ErrorOut, **NOT_FOUND},
    summary="One organization's CII record: designations and the whole grade history",
)
def cii_record_detail(
    request: HttpRequest, slug: str = Path(..., pattern=SLUG_PATTERN)
) -> dict[str, Any]:
    return _cii_record(get_cii_record(current_user(request), slug))


@router.post(
    "/cii/organizations/{slug}/grade",
    response={200: CIIRecordOut, **WRITE_ERRORS},
    summary="Regrade a CII organization from the criteria answers, or by hand with a reason",
    description="National CERT and CII CERT coordinators (and administrators) only.",
)
def cii_regrade(
    request: HttpRequest, payload: CIIRegradeIn, slug: str = Path(..., pattern=SLUG_PATTERN)
) -> dict[str, Any]:
    user = current_user(request)
    record = get_cii_record(user, slug)
    if any("\x00" in f"{k}{v}" for k, v in payload.answers.items()):
        raise Invalid(_("Answers contain a NUL character."))
    regrade_cii(
        actor=user,
        organization=record.organization,
        grade=payload.grade,
        answers=payload.answers,
        reason=payload.reason,
    )
    return _cii_record(get_cii_record(user, slug))
