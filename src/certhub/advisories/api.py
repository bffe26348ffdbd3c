"""API of advisories: the scoped list, one advisory, its CSAF 2.0 document, and the
lifecycle (create a draft, change it, submit, publish, withdraw).

An advisory the caller may not see answers 404 like one that does not exist; the
authoring line reads the working copy, everyone else the latest published revision.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Path, Query, Router, Schema, Status
from pydantic import Field

from certhub.accounts.selectors import current_user
from certhub.advisories import selectors, services
from certhub.advisories.choices import AdvisoryStatus
from certhub.advisories.models import Advisory, AdvisoryRevision
from certhub.advisories.text import render_markdown
from certhub.core.pagination import DEFAULT_LIMIT, MAX_LIMIT, paginate
from certhub.tenancy.selectors import get_team

router = Router(tags=["advisories"])

TRACKING_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9+_\-]{0,63}$"
SLUG_PATTERN = r"^[-a-zA-Z0-9_]+$"
LIMIT_HELP = f"Items per page, 1 to {MAX_LIMIT}."
CURSOR_HELP = "The `next_cursor` of the previous page; omit for the first page."
SHORT = 300
LONG = 100_000


class ErrorOut(Schema):
    detail: str


NOT_FOUND = {401: ErrorOut, 404: ErrorOut, 422: ErrorOut}
WRITE_ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut,
                422: ErrorOut}  # fmt: skip


class ReferenceIO(Schema):
    url: str = Field(..., max_length=2000)
    summary: str = Field("", max_length=500)


class ProductIO(Schema):
    vendor: str = Field(..., max_length=200)
    product: str = Field(..., max_length=200)
    versions: str = Field("", max_length=200, description="Affected versions, e.g. `< 2.4.58`.")
    fixed_version: str = Field("", max_length=100, description="First fixed version, if any.")


class CVEIn(Schema):
    cve: str = Field(..., max_length=32, description="CVE-YYYY-NNNN")
    title: str = Field("", max_length=SHORT)
    cvss_v3_vector: str = Field("", max_length=400, description="`CVSS:3.1/AV:N/...`")
    cvss_v4_vector: str = Field("", max_length=400, description="`CVSS:4.0/AV:N/...`")


class ScoreOut(Schema):
    vector: str
    score: float
    severity: str


class CVEOut(Schema):
    cve: str
    title: str
    cvss_v3: ScoreOut | None
    cvss_v4: ScoreOut | None


class AudienceOut(Schema):
    kind: str
    sectors: list[str]
    team_kinds: list[str]
    organizations: list[str]


class AdvisoryFields(Schema):
    """What an author may set. Lists replace what was there."""

    title: str | None = Field(None, max_length=SHORT)
    summary: str | None = Field(None, max_length=LONG)
    details: str | None = Field(None, max_length=LONG, description="Markdown.")
    severity: str | None = Field(None, max_length=20, description="low, medium, high, critical")
    exploitation: str | None = Field(
        None, max_length=20, description="none_known, proof_of_concept, active"
    )
    remediation_category: str | None = Field(
        None, max_length=20, description="vendor_fix, mitigation, no_fix_planned, none_available"
    )
    remediation: str | None = Field(None, max_length=LONG)
    workarounds: str | None = Field(None, max_length=LONG)
    references: list[ReferenceIO] | None = None
    products: list[ProductIO] | None = None
    cves: list[CVEIn] | None = None
    tlp: str | None = Field(
        None, max_length=12, description="CLEAR, GREEN, AMBER, AMBER+STRICT, RED"
    )
    audience_kind: str | None = Field(
        None, max_length=20, description="everyone, sectors, tiers, cii, organizations"
    )
    audience_sectors: list[str] | None = Field(None, description="Sector slugs.")
    audience_team_kinds: list[str] | None = Field(None, description="CERT kinds (tiers).")
    audience_organizations: list[str] | None = Field(None, description="Organization slugs.")
    red_recipient_users: list[str] | None = Field(None, description="Usernames (TLP:RED).")
    red_recipient_teams: list[str] | None = Field(None, description="Team slugs (TLP:RED).")
    ack_within_hours: int | None = Field(
        None,
        ge=1,
        le=24 * 365,
        description="Hours audience organizations have to acknowledge it (default: 48 for "
        "critical, none otherwise).",
    )


class AdvisoryCreate(AdvisoryFields):
    title: str = Field(..., max_length=SHORT)
    summary: str = Field(..., max_length=LONG)
    team: str | None = Field(
        None, max_length=100, pattern=SLUG_PATTERN, description="Authoring CERT (slug)."
    )


class PublishIn(Schema):
    change_summary: str = Field("", max_length=500, description="What this revision changes.")


class WithdrawIn(Schema):
    reason: str = Field(..., max_length=2000)


class RevisionOut(Schema):
    number: int
    published_at: dt.datetime
    change_summary: str
    withdrawn: bool
    csaf_sha256: str


class AdvisorySummaryOut(Schema):
    tracking_id: str
    team: str
    title: str
    status: str
    severity: str
    tlp: str
    revision: int | None
    published_at: dt.datetime | None


class AdvisoryPage(Schema):
    items: list[AdvisorySummaryOut]
    next_cursor: str | None


class AdvisoryOut(Schema):
    tracking_id: str
    team: str
    status: str
    revision: int | None
    title: str
    summary: str
    details: str
    details_html: str
    severity: str
    exploitation: str
    remediation_category: str
    remediation: str
    workarounds: str
    references: list[ReferenceIO]
    products: list[ProductIO]
    cves: list[CVEOut]
    tlp: str
    audience: AudienceOut
    withdrawal_reason: str
    revisions: list[RevisionOut]


def _reader_status(revision: AdvisoryRevision | None) -> str:
    if revision is None:
        return AdvisoryStatus.DRAFT
    if revision.withdrawn:
        return AdvisoryStatus.WITHDRAWN
    return AdvisoryStatus.UPDATED if revision.number > 1 else AdvisoryStatus.PUBLISHED


def _summary(user: Any, advisory: Advisory) -> dict[str, Any]:
    revision = advisory.latest_revision
    authoring = selectors.in_authoring_line(user, advisory)
    source: Any = advisory if authoring or revision is None else revision.content
    read = (lambda name: getattr(source, name)) if authoring else source.get
    return {
        "tracking_id": advisory.tracking_id,
        "team": advisory.team.slug,
        "title": read("title"),
        "status": advisory.status if authoring else _reader_status(revision),
        "severity": read("severity"),
        "tlp": read("tlp"),
        "revision": revision.number if revision else None,
        "published_at": revision.published_at if revision else None,
    }


def _detail(user: Any, advisory: Advisory) -> dict[str, Any]:
    content = selectors.content_for(user, advisory)
    authoring = selectors.in_authoring_line(user, advisory)
    revision = advisory.latest_revision
    return {
        **content,
        "team": advisory.team.slug,
        "status": advisory.status if authoring else _reader_status(revision),
        "revision": revision.number if revision else None,
        "details_html": render_markdown(content.get("details", "")),
        "revisions": list(selectors.revisions_of(advisory)),
    }


@router.get(
    "/advisories",
    response={200: AdvisoryPage, 400: ErrorOut, 401: ErrorOut, 422: ErrorOut},
    summary="Advisories you may see: your CERT's drafts and the published ones addressed to you",
)
def list_advisories(
    request: HttpRequest,
    limit: int = Query(DEFAULT_LIMIT, description=LIMIT_HELP),
    cursor: str | None = Query(None, description=CURSOR_HELP),
) -> dict[str, Any]:
    user = current_user(request)
    page = paginate(
        selectors.advisories_visible_to(user), key="tracking_id", limit=limit, cursor=cursor
    )
    return {"items": [_summary(user, a) for a in page.items], "next_cursor": page.next_cursor}


@router.get(
    "/advisories/{tracking_id}",
    response={200: AdvisoryOut, **NOT_FOUND},
    summary="One advisory with its products, CVEs and revision history",
)
def advisory_detail(
    request: HttpRequest, tracking_id: str = Path(..., pattern=TRACKING_PATTERN)
) -> dict[str, Any]:
    user = current_user(request)
    return _detail(user, selectors.get_advisory(user, tracking_id))


@router.get(
    "/advisories/{tracking_id}/csaf",
    response={200: dict[str, Any], **NOT_FOUND},
    summary="The CSAF 2.0 document of the latest published revision (exact stored bytes)",
    description=(
        "The bytes are those signed and hashed at publication: `X-Checksum-SHA256` carries "
        "their SHA-256. TLP:CLEAR documents are also public under /.well-known/csaf/."
    ),
)
def advisory_csaf(
    request: HttpRequest, tracking_id: str = Path(..., pattern=TRACKING_PATTERN)
) -> HttpResponse:
    revision = selectors.published_csaf_for(current_user(request), tracking_id)
    response = HttpResponse(revision.csaf_bytes, content_type="application/json")
    response["X-Checksum-SHA256"] = revision.csaf_sha256
    return response


def _fields(payload: AdvisoryFields) -> dict[str, Any]:
    data = payload.model_dump(exclude_unset=True)
    data.pop("team", None)
    return {key: value for key, value in data.items() if value is not None}


@router.post(
    "/advisories",
    response={201: AdvisoryOut, **WRITE_ERRORS},
    summary="Create a draft advisory (analysts and coordinators of a CERT)",
)
def create_advisory(request: HttpRequest, payload: AdvisoryCreate) -> Status:
    user = current_user(request)
    team = get_team(user, payload.team) if payload.team else None
    advisory = services.create_advisory(actor=user, team=team, data=_fields(payload))
    return Status(201, _detail(user, advisory))


@router.patch(
    "/advisories/{tracking_id}",
    response={200: AdvisoryOut, **WRITE_ERRORS},
    summary="Change an advisory's working copy (a published one gets a pending update)",
)
def update_advisory(
    request: HttpRequest,
    payload: AdvisoryFields,
    tracking_id: str = Path(..., pattern=TRACKING_PATTERN),
) -> dict[str, Any]:
    user = current_user(request)
    advisory = services.update_advisory(
        actor=user, advisory=selectors.get_advisory(user, tracking_id), data=_fields(payload)
    )
    return _detail(user, advisory)


@router.post(
    "/advisories/{tracking_id}/submit",
    response={200: AdvisoryOut, **WRITE_ERRORS},
    summary="Submit a draft for review",
)
def submit_advisory(
    request: HttpRequest, tracking_id: str = Path(..., pattern=TRACKING_PATTERN)
) -> dict[str, Any]:
    user = current_user(request)
    advisory = services.submit_advisory(
        actor=user, advisory=selectors.get_advisory(user, tracking_id)
    )
    return _detail(user, advisory)


@router.post(
    "/advisories/{tracking_id}/publish",
    response={200: AdvisoryOut, **WRITE_ERRORS},
    summary="Publish the reviewed advisory as its next revision (a coordinator, not the author)",
)
def publish_advisory(
    request: HttpRequest,
    payload: PublishIn,
    tracking_id: str = Path(..., pattern=TRACKING_PATTERN),
) -> dict[str, Any]:
    user = current_user(request)
    advisory = services.publish_advisory(
        actor=user,
        advisory=selectors.get_advisory(user, tracking_id),
        change_summary=payload.change_summary,
    )
    return _detail(user, advisory)


@router.post(
    "/advisories/{tracking_id}/withdraw",
    response={200: AdvisoryOut, **WRITE_ERRORS},
    summary="Withdraw a published advisory, saying why (a coordinator)",
)
def withdraw_advisory(
    request: HttpRequest,
    payload: WithdrawIn,
    tracking_id: str = Path(..., pattern=TRACKING_PATTERN),
) -> dict[str, Any]:
    user = current_user(request)
    advisory = services.withdraw_advisory(
        actor=user, advisory=selectors.get_advisory(user, tracking_id), reason=payload.reason
    )
    return _detail(user, advisory)


# --- Acknowledgements -----------------------------------------------------------------------


class AcknowledgementIn(Schema):
    state: str = Field(..., max_length=20, description="received, applied, not_affected, need_help")
    comment: str = Field("", max_length=4000, description="Required with need_help.")
    organization: str | None = Field(
        None,
        max_length=100,
        pattern=SLUG_PATTERN,
        description="The organization answering (slug); needed only for members of several.",
    )


class AcknowledgementOut(Schema):
    organization: str
    state: str
    comment: str
    revision: int
    by: str
    at: dt.datetime


class OrganizationAckOut(Schema):
    organization: str
    name: str
    sector: str
    is_cii: bool
    delivered_at: dt.datetime
    read_at: dt.datetime | None
    reminded_at: dt.datetime | None
    acknowledgement: AcknowledgementOut | None


class SectorAckOut(Schema):
    sector: str
    total: int
    acknowledged: int


class AcknowledgementsOut(Schema):
    tracking_id: str
    total: int
    acknowledged: int
    deadline_hours: int | None
    sectors: list[SectorAckOut]
    organizations: list[OrganizationAckOut]


def _ack(ack: Any) -> dict[str, Any]:
    return {
        "organization": ack.organization.slug,
        "state": ack.state,
        "comment": ack.comment,
        "revision": ack.revision_number,
        "by": ack.by_name,
        "at": ack.at,
    }


@router.post(
    "/advisories/{tracking_id}/acknowledgements",
    response={201: AcknowledgementOut, **WRITE_ERRORS},
    summary="Acknowledge an advisory for your organization (members of audience organizations)",
)
def acknowledge_advisory(
    request: HttpRequest,
    payload: AcknowledgementIn,
    tracking_id: str = Path(..., pattern=TRACKING_PATTERN),
) -> Status:
    user = current_user(request)
    ack = services.acknowledge_advisory(
        actor=user,
        advisory=selectors.get_advisory(user, tracking_id),
        state=payload.state,
        comment=payload.comment,
        organization=payload.organization or "",
    )
    return Status(201, _ack(ack))


@router.get(
    "/advisories/{tracking_id}/acknowledgements",
    response={200: AcknowledgementsOut, **NOT_FOUND},
    summary="Who acknowledged an advisory, per organization and sector (the authoring CERTs)",
)
def advisory_acknowledgements(
    request: HttpRequest, tracking_id: str = Path(..., pattern=TRACKING_PATTERN)
) -> dict[str, Any]:
    overview = selectors.acknowledgement_overview(current_user(request), tracking_id)
    return {
        "tracking_id": overview.advisory.tracking_id,
        "total": overview.total,
        "acknowledged": overview.acknowledged,
        "deadline_hours": overview.deadline_hours,
        "sectors": [
            {"sector": r.sector.slug, "total": r.total, "acknowledged": r.acknowledged}
            for r in overview.sectors
        ],
        "organizations": [
            {
                "organization": row.organization.slug,
                "name": row.organization.name,
                "sector": row.organization.sector.slug,
                "is_cii": row.organization.is_cii,
                "delivered_at": row.delivery.delivered_at,
                "read_at": row.delivery.read_at,
                "reminded_at": row.delivery.reminded_at,
                "acknowledgement": _ack(row.acknowledgement) if row.acknowledgement else None,
            }
            for row in overview.rows
        ],
    }
