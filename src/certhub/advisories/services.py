"""Every write to advisories. Keyword-only, one transaction each, audited.

Lifecycle: ``create_advisory`` (draft) -> ``update_advisory`` -> ``submit_advisory``
(review) -> ``publish_advisory`` (published; later ``updated``) -> ``withdraw_advisory``.
Editing a published advisory prepares an update: the working copy goes back to draft
while readers keep the latest revision, until a reviewer publishes the next one.

Who: analysts and coordinators of the authoring team or a team above it write and submit;
a coordinator there publishes and withdraws, and with CERTHUB_ADVISORY_TWO_PERSON (the
default) the publisher is neither the author nor the one who submitted it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from certhub.accounts.selectors import get_user_by_username
from certhub.advisories import csaf
from certhub.advisories.choices import (
    EDITABLE_STATUSES,
    AckState,
    AdvisoryStatus,
    AudienceKind,
    Exploitation,
    RemediationCategory,
    Severity,
)
from certhub.advisories.models import (
    Acknowledgement,
    Advisory,
    AdvisoryCVE,
    AdvisoryDelivery,
    AdvisoryRevision,
    AffectedProduct,
    TrackingCounter,
)
from certhub.advisories.scoring import parse_cvss_v3, parse_cvss_v4
from certhub.audit import services as audit
from certhub.core.errors import Conflict, Forbidden, Invalid, NotFound
from certhub.notify import openpgp as signing
from certhub.tenancy.choices import TeamKind
from certhub.tenancy.models import Team
from certhub.tenancy.selectors import organizations_visible_to, teams_addressable_by
from certhub.tenancy.tlp import TLP
from certhub.tenancy.visibility import TEAM_COORDINATE_ROLES, TEAM_WRITE_ROLES, scope_for

MAX_COMMENT = 4000

SCALAR_FIELDS = [
    "title",
    "summary",
    "details",
    "severity",
    "exploitation",
    "remediation_category",
    "remediation",
    "workarounds",
    "references",
    "tlp",
    "audience_kind",
    "audience_team_kinds",
    "ack_within_hours",
]
RELATION_FIELDS = [
    "products",
    "cves",
    "audience_sectors",
    "audience_organizations",
    "red_recipient_users",
    "red_recipient_teams",
]
EDITABLE_FIELDS = frozenset(SCALAR_FIELDS + RELATION_FIELDS)
MAX_PRODUCTS = 200
MAX_CVES = 200
MAX_REFERENCES = 50
MAX_TEXT = 100_000
MAX_ACK_HOURS = 24 * 365
# A fixed version is one version: no range operators or words (CSAF test 6.1.31).
RANGE_IN_VERSION = re.compile(r"[<>=*|,]|\b(after|before|prior|earlier|later|all)\b|^vers:", re.I)
_url = URLValidator(schemes=["http", "https"])


def two_person_rule() -> bool:
    return bool(getattr(settings, "CERTHUB_ADVISORY_TWO_PERSON", True))


# --- Tracking ids ---------------------------------------------------------------------------


def tracking_prefix() -> str:
    return str(getattr(settings, "CERTHUB_REFERENCE_PREFIX", "CERT") or "CERT")


def _next_tracking_id(year: int) -> str:
    """``{PREFIX}-SA-{YEAR}-{NNNN}`` from a counter read under a row lock: never reused."""
    prefix = tracking_prefix()
    TrackingCounter.objects.get_or_create(prefix=prefix, year=year)
    counter = TrackingCounter.objects.select_for_update().get(prefix=prefix, year=year)
    counter.last_number += 1
    counter.save(update_fields=["last_number"])
    return f"{prefix}-SA-{year}-{counter.last_number:04d}"


# --- Input checks ---------------------------------------------------------------------------


def _clean_text(name: str, value: Any, *, required: bool = False, limit: int = MAX_TEXT) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise Invalid(_("%(field)s must be text.") % {"field": name})
    if "\x00" in value:
        raise Invalid(_("%(field)s contains a NUL character.") % {"field": name})
    value = value.strip()
    if required and not value:
        raise Invalid(_("%(field)s is required.") % {"field": name})
    if len(value) > limit:
        raise Invalid(
            _("%(field)s is longer than %(limit)d characters.") % {"field": name, "limit": limit}
        )
    return value


def _choice(name: str, value: Any, choices: Any) -> str:
    if value not in choices.values:
        raise Invalid(
            _("%(field)s must be one of %(choices)s.")
            % {"field": name, "choices": ", ".join(choices.values)}
        )
    return str(value)


def _clean_references(value: Any) -> list[dict[str, str]]:
    if not isinstance(value, list) or len(value) > MAX_REFERENCES:
        raise Invalid(
            _("references must be a list of at most %(n)d links.") % {"n": MAX_REFERENCES}
        )
    cleaned = []
    for item in value:
        if not isinstance(item, dict):
            raise Invalid(_("Each reference is an object with url and summary."))
        url = _clean_text("references.url", item.get("url"), required=True, limit=2000)
        try:
            _url(url)
        except ValidationError as exc:
            raise Invalid(_("%(url)s is not an http(s) URL.") % {"url": url}) from exc
        summary = _clean_text("references.summary", item.get("summary"), limit=500)
        cleaned.append({"url": url, "summary": summary})
    return cleaned


def _clean_products(value: Any) -> list[dict[str, str]]:
    if not isinstance(value, list) or len(value) > MAX_PRODUCTS:
        raise Invalid(_("products must be a list of at most %(n)d products.") % {"n": MAX_PRODUCTS})
    cleaned = []
    for item in value:
        if not isinstance(item, dict):
            raise Invalid(_("Each product is an object with vendor, product and versions."))
        row = {
            "vendor": _clean_text(_("vendor"), item.get("vendor"), required=True, limit=200),
            "product": _clean_text(_("product"), item.get("product"), required=True, limit=200),
            "versions": _clean_text(_("affected versions"), item.get("versions"), limit=200),
            "fixed_version": _clean_text(_("fixed version"), item.get("fixed_version"), limit=100),
        }
        if row["fixed_version"] and RANGE_IN_VERSION.search(row["fixed_version"]):
            raise Invalid(
                _("The fixed version of %(product)s must be one version, not a range: %(v)s")
                % {"product": row["product"], "v": row["fixed_version"]}
            )
        cleaned.append(row)
    return cleaned


def _clean_cves(value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, list) or len(value) > MAX_CVES:
        raise Invalid(_("cves must be a list of at most %(n)d CVEs.") % {"n": MAX_CVES})
    cleaned: list[dict[str, Any]] = []
    seen: set[str] = set()
    for item in value:
        if not isinstance(item, dict):
            raise Invalid(_("Each CVE is an object with cve, title and CVSS vectors."))
        cve = _clean_text("cve", item.get("cve"), required=True, limit=32).upper()
        if not csaf.CVE_PATTERN.match(cve):
            raise Invalid(_("%(cve)s is not a CVE id (CVE-YYYY-NNNN).") % {"cve": cve})
        if cve in seen:
            raise Invalid(_("%(cve)s is listed twice.") % {"cve": cve})
        seen.add(cve)
        row: dict[str, Any] = {
            "cve": cve,
            "title": _clean_text(_("title"), item.get("title"), limit=300),
            "cvss_v3_vector": "",
            "cvss_v3_score": None,
            "cvss_v3_severity": "",
            "cvss_v4_vector": "",
            "cvss_v4_score": None,
            "cvss_v4_severity": "",
        }
        v3 = _clean_text("cvss_v3_vector", item.get("cvss_v3_vector"), limit=400)
        if v3:
            score = parse_cvss_v3(v3, cve=cve)
            row.update(
                cvss_v3_vector=score.vector,
                cvss_v3_score=score.base_score,
                cvss_v3_severity=score.severity,
            )
        v4 = _clean_text("cvss_v4_vector", item.get("cvss_v4_vector"), limit=400)
        if v4:
            score = parse_cvss_v4(v4, cve=cve)
            row.update(
                cvss_v4_vector=score.vector,
                cvss_v4_score=score.base_score,
                cvss_v4_severity=score.severity,
            )
        cleaned.append(row)
    return cleaned


def _clean_hours(value: Any) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_ACK_HOURS:
        raise Invalid(
            _("The acknowledgement deadline is a number of hours from 1 to %(max)d.")
            % {"max": MAX_ACK_HOURS}
        )
    return value


def _slugs(name: str, value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise Invalid(_("%(field)s must be a list of names.") % {"field": name})
    if len(value) > 1000:
        raise Invalid(_("%(field)s lists too many entries.") % {"field": name})
    return sorted({_clean_text(name, v, required=True, limit=150) for v in value})


def _resolve(actor: Any, name: str, slugs: list[str]) -> list[Any]:
    """Sectors, organizations, teams or users named by slug/username, as the actor may
    see them; an unknown or invisible one is refused without saying which case it is."""
    from certhub.tenancy.selectors import sectors_visible_to

    if not slugs:
        return []
    if name == "red_recipient_users":
        found = []
        for username in slugs:
            try:
                found.append(get_user_by_username(username))
            except NotFound as exc:
                raise Invalid(exc.message) from exc
        return found
    if actor is None:  # an operator command: the whole constituency
        from certhub.tenancy.models import Organization, Sector

        queryset: Any = {
            "audience_sectors": Sector.objects.all(),
            "audience_organizations": Organization.objects.all(),
            "red_recipient_teams": Team.objects.all(),
        }[name]
    else:
        queryset = {
            "audience_sectors": sectors_visible_to(actor),
            "audience_organizations": organizations_visible_to(actor),
            # Any CERT may be named as a TLP:RED recipient (a peer, not only the own line).
            "red_recipient_teams": teams_addressable_by(actor),
        }[name]
    rows = list(queryset.filter(slug__in=slugs))
    missing = sorted(set(slugs) - {row.slug for row in rows})
    if missing:
        raise Invalid(
            _("%(field)s: unknown %(names)s.") % {"field": name, "names": ", ".join(missing)}
        )
    return rows


def _clean(actor: Any, data: dict[str, Any], *, creating: bool) -> dict[str, Any]:
    unknown = sorted(set(data) - EDITABLE_FIELDS)
    if unknown:
        raise Invalid(_("Unknown fields: %(names)s.") % {"names": ", ".join(unknown)})
    cleaned: dict[str, Any] = {}
    for name in ("title", "summary"):
        if name in data or creating:
            limit = 300 if name == "title" else MAX_TEXT
            cleaned[name] = _clean_text(name, data.get(name), required=True, limit=limit)
    for name in ("details", "remediation", "workarounds"):
        if name in data:
            cleaned[name] = _clean_text(name, data[name])
    choices = {
        "severity": Severity,
        "exploitation": Exploitation,
        "remediation_category": RemediationCategory,
        "tlp": TLP,
        "audience_kind": AudienceKind,
    }
    for name, choice in choices.items():
        if name in data:
            cleaned[name] = _choice(name, data[name], choice)
    if "audience_team_kinds" in data:
        kinds = _slugs("audience_team_kinds", data["audience_team_kinds"])
        for kind in kinds:
            _choice("audience_team_kinds", kind, TeamKind)
        cleaned["audience_team_kinds"] = kinds
    if "ack_within_hours" in data:
        cleaned["ack_within_hours"] = _clean_hours(data["ack_within_hours"])
    if "references" in data:
        cleaned["references"] = _clean_references(data["references"])
    if "products" in data:
        cleaned["products"] = _clean_products(data["products"])
    if "cves" in data:
        cleaned["cves"] = _clean_cves(data["cves"])
    for name in ("audience_sectors", "audience_organizations", "red_recipient_users",
                 "red_recipient_teams"):  # fmt: skip
        if name in data:
            cleaned[name] = _resolve(actor, name, _slugs(name, data[name]))
    return cleaned


# --- Reading an advisory as data (audit, snapshots, API) ------------------------------------


def snapshot_content(advisory: Advisory) -> dict[str, Any]:
    """The advisory's working copy as plain data: what a revision keeps when published."""
    return {
        "tracking_id": advisory.tracking_id,
        "team": advisory.team.slug,
        "title": advisory.title,
        "summary": advisory.summary,
        "details": advisory.details,
        "severity": advisory.severity,
        "exploitation": advisory.exploitation,
        "remediation_category": advisory.remediation_category,
        "remediation": advisory.remediation,
        "workarounds": advisory.workarounds,
        "references": list(advisory.references),
        "tlp": advisory.tlp,
        "audience": {
            "kind": advisory.audience_kind,
            "sectors": sorted(s.slug for s in advisory.audience_sectors.all()),
            "team_kinds": sorted(advisory.audience_team_kinds),
            "organizations": sorted(o.slug for o in advisory.audience_organizations.all()),
        },
        "products": [
            {
                "vendor": p.vendor,
                "product": p.product,
                "versions": p.versions,
                "fixed_version": p.fixed_version,
            }
            for p in advisory.products.all()
        ],
        "cves": [_cve_data(c) for c in advisory.cves.all()],
        "withdrawn": advisory.status == AdvisoryStatus.WITHDRAWN,
        "withdrawal_reason": advisory.withdrawal_reason,
    }


def _cve_data(cve: AdvisoryCVE) -> dict[str, Any]:
    def score(vector: str, value: Any, severity: str) -> dict[str, Any] | None:
        if not vector:
            return None
        return {"vector": vector, "score": float(value), "severity": severity}

    return {
        "cve": cve.cve,
        "title": cve.title,
        "cvss_v3": score(cve.cvss_v3_vector, cve.cvss_v3_score, cve.cvss_v3_severity),
        "cvss_v4": score(cve.cvss_v4_vector, cve.cvss_v4_score, cve.cvss_v4_severity),
    }


def _audit_view(advisory: Advisory) -> dict[str, Any]:
    view = snapshot_content(advisory)
    view["red_recipient_users"] = sorted(u.username for u in advisory.red_recipient_users.all())
    view["red_recipient_teams"] = sorted(t.slug for t in advisory.red_recipient_teams.all())
    view["status"] = advisory.status
    view["ack_within_hours"] = advisory.ack_within_hours
    return view


# --- Permissions ----------------------------------------------------------------------------


def _require_role(actor: Any, team: Team, roles: frozenset[str], message: str) -> None:
    if actor is None:  # operator commands act as the system
        return
    role = scope_for(actor).role_in_team_over(team.path)
    if role not in roles:
        raise Forbidden(message)


def _require_author(actor: Any, advisory: Advisory) -> None:
    _require_role(
        actor,
        advisory.team,
        TEAM_WRITE_ROLES,
        _("Only analysts and coordinators of the authoring CERT (or above it) edit advisories."),
    )


def _locked(advisory: Advisory) -> Advisory:
    """The advisory re-read under a row lock: lifecycle steps never race."""
    return Advisory.objects.select_for_update().select_related("team").get(pk=advisory.pk)


# --- Writes -------------------------------------------------------------------------------


def _apply(advisory: Advisory, cleaned: dict[str, Any]) -> None:
    for name in SCALAR_FIELDS:
        if name in cleaned:
            setattr(advisory, name, cleaned[name])
    advisory.save()
    for name in ("audience_sectors", "audience_organizations", "red_recipient_users",
                 "red_recipient_teams"):  # fmt: skip
        if name in cleaned:
            getattr(advisory, name).set(cleaned[name])
    if "products" in cleaned:
        advisory.products.all().delete()
        AffectedProduct.objects.bulk_create(
            AffectedProduct(advisory=advisory, position=i, **row)
            for i, row in enumerate(cleaned["products"])
        )
    if "cves" in cleaned:
        advisory.cves.all().delete()
        AdvisoryCVE.objects.bulk_create(
            AdvisoryCVE(advisory=advisory, position=i, **row)
            for i, row in enumerate(cleaned["cves"])
        )


def _authoring_team(actor: Any, team: Team | None) -> Team:
    if team is not None:
        return team
    if actor is None:
        raise Invalid(_("Name the authoring team."))
    seats = [seat for seat in scope_for(actor).teams if seat.role in TEAM_WRITE_ROLES]
    if not seats:
        raise Forbidden(_("Only analysts and coordinators of a CERT write advisories."))
    return Team.objects.get(pk=min(seats, key=lambda seat: len(seat.path)).team_id)


def _create(actor: Any, team: Team | None, data: dict[str, Any]) -> Advisory:
    team = _authoring_team(actor, team)
    _require_role(
        actor,
        team,
        TEAM_WRITE_ROLES,
        _("Only analysts and coordinators of the authoring CERT (or above it) write advisories."),
    )
    cleaned = _clean(actor, data, creating=True)
    advisory = Advisory(
        tracking_id=_next_tracking_id(timezone.now().year),
        team=team,
        author=actor,
        status=AdvisoryStatus.DRAFT,
    )
    _apply(advisory, cleaned)
    return advisory


@transaction.atomic
def create_advisory(*, actor: Any, team: Team | None = None, data: dict[str, Any]) -> Advisory:
    """A new draft advisory of ``team`` (default: the actor's own CERT)."""
    advisory = _create(actor, team, data)
    audit.record(
        actor=actor,
        action="advisory.create",
        obj=advisory,
        changes=audit.diff({}, _audit_view(advisory)),
    )
    return advisory


@transaction.atomic
def update_advisory(*, actor: Any, advisory: Advisory, data: dict[str, Any]) -> Advisory:
    """Change the working copy. In review it goes back to draft (the reviewer must see
    the final text); on a published advisory this prepares the next revision."""
    advisory = _locked(advisory)
    _require_author(actor, advisory)
    if advisory.status not in EDITABLE_STATUSES:
        raise Conflict(_("A withdrawn advisory cannot be changed."))
    cleaned = _clean(actor, data, creating=False)
    before = _audit_view(advisory)
    _apply(advisory, cleaned)
    changes = audit.diff(before, _audit_view(advisory))
    if changes and advisory.status != AdvisoryStatus.DRAFT:
        changes["status"] = [advisory.status, AdvisoryStatus.DRAFT.value]
        advisory.status = AdvisoryStatus.DRAFT
        advisory.save(update_fields=["status", "updated_at"])
    if changes:
        audit.record(actor=actor, action="advisory.update", obj=advisory, changes=changes)
    return advisory


def _readiness_problems(advisory: Advisory) -> list[str]:
    problems = []
    if not advisory.products.exists():
        problems.append(_("name at least one affected product"))
    kind = advisory.audience_kind
    if kind == AudienceKind.SECTORS and not advisory.audience_sectors.exists():
        problems.append(_("choose the audience sectors"))
    if kind == AudienceKind.ORGANIZATIONS and not advisory.audience_organizations.exists():
        problems.append(_("choose the audience organizations"))
    if kind == AudienceKind.TIERS and not advisory.audience_team_kinds:
        problems.append(_("choose the kinds of CERT addressed"))
    if advisory.tlp == TLP.RED and not (
        advisory.red_recipient_users.exists() or advisory.red_recipient_teams.exists()
    ):
        problems.append(_("name the TLP:RED recipients"))
    return problems


@transaction.atomic
def submit_advisory(*, actor: Any, advisory: Advisory) -> Advisory:
    """Draft -> review, once it is complete enough to publish."""
    advisory = _locked(advisory)
    _require_author(actor, advisory)
    if advisory.status != AdvisoryStatus.DRAFT:
        raise Conflict(_("Only a draft can be submitted for review."))
    problems = _readiness_problems(advisory)
    if problems:
        raise Invalid(_("Before review: %(problems)s.") % {"problems": "; ".join(problems)})
    advisory.status = AdvisoryStatus.REVIEW
    advisory.submitted_by = actor
    advisory.save(update_fields=["status", "submitted_by", "updated_at"])
    audit.record(
        actor=actor,
        action="advisory.submit",
        obj=advisory,
        changes={"status": [AdvisoryStatus.DRAFT.value, AdvisoryStatus.REVIEW.value]},
    )
    return advisory


def _self_url(content: dict[str, Any], path: str) -> str:
    if content["tlp"] == TLP.CLEAR:
        return csaf.provider_url(f"clear/{path}")
    return f"{csaf.base_url()}/api/v1/advisories/{content['tracking_id']}/csaf"


def _add_revision(
    *,
    actor: Any,
    advisory: Advisory,
    content: dict[str, Any],
    change_summary: str,
    withdrawn: bool,
    audience_source: Any,
) -> AdvisoryRevision:
    """Freeze ``content`` as the next revision: render, hash and sign its CSAF document."""
    now = timezone.now()
    previous = list(
        AdvisoryRevision.objects.filter(advisory_id=advisory.pk)
        .order_by("number")
        .values_list("number", "published_at", "change_summary")
    )
    number = len(previous) + 1
    history = [csaf.RevisionEntry(n, date, summary) for n, date, summary in previous]
    history.append(csaf.RevisionEntry(number, now, change_summary))
    path = csaf.csaf_path(advisory.tracking_id, history[0].date)
    document = csaf.serialise(
        csaf.render_document(content, history=history, self_url=_self_url(content, path))
    )
    raw = document.encode("utf-8")
    revision = AdvisoryRevision(
        advisory=advisory,
        number=number,
        published_at=now,
        published_by=actor,
        published_by_name=actor.get_username() if actor is not None else "system",
        author_name=advisory.author.get_username() if advisory.author else "",
        change_summary=change_summary,
        withdrawn=withdrawn,
        tlp=content["tlp"],
        audience_kind=content["audience"]["kind"],
        audience_team_kinds=content["audience"]["team_kinds"],
        content=content,
        csaf_path=path,
        csaf_document=document,
        csaf_sha256=hashlib.sha256(raw).hexdigest(),
        csaf_sha512=hashlib.sha512(raw).hexdigest(),
        csaf_signature=signing.sign_detached(raw),
    )
    revision.save()
    for name in ("audience_sectors", "audience_organizations", "red_recipient_users",
                 "red_recipient_teams"):  # fmt: skip
        getattr(revision, name).set(getattr(audience_source, name).all())
    advisory.latest_revision = revision
    _distribute_after_commit(advisory.pk, revision.number)
    return revision


def _distribute_after_commit(advisory_id: int, number: int) -> None:
    """Hand the e-mails and inbox deliveries of a new revision to the task worker once
    the publication is committed (never for a publication that rolled back)."""

    def enqueue() -> None:
        from certhub.advisories.tasks import distribute_advisory

        distribute_advisory.enqueue(advisory_id, number)

    transaction.on_commit(enqueue)


@transaction.atomic
def publish_advisory(*, actor: Any, advisory: Advisory, change_summary: str = "") -> Advisory:
    """Review -> published (or updated): a coordinator of the authoring CERT or above it,
    not the author or submitter when the two-person rule is on, freezes the working copy
    as the next revision with its signed CSAF document."""
    advisory = _locked(advisory)
    _require_role(
        actor,
        advisory.team,
        TEAM_COORDINATE_ROLES,
        _("Only a coordinator of the authoring CERT (or above it) publishes advisories."),
    )
    if advisory.status != AdvisoryStatus.REVIEW:
        raise Conflict(_("Only an advisory in review can be published."))
    if (
        two_person_rule()
        and actor is not None
        and actor.pk
        in {
            advisory.author_id,
            advisory.submitted_by_id,
        }
    ):
        raise Forbidden(
            _("Two-person rule: an advisory is published by someone other than its author.")
        )
    problems = _readiness_problems(advisory)
    if problems:
        raise Invalid(_("Before publishing: %(problems)s.") % {"problems": "; ".join(problems)})
    first = advisory.latest_revision_id is None
    summary = _clean_text("change_summary", change_summary, limit=500) or (
        "Initial release" if first else "Updated"
    )
    content = snapshot_content(advisory)
    revision = _add_revision(
        actor=actor,
        advisory=advisory,
        content=content,
        change_summary=summary,
        withdrawn=False,
        audience_source=advisory,
    )
    before = advisory.status
    advisory.status = AdvisoryStatus.PUBLISHED if first else AdvisoryStatus.UPDATED
    advisory.save(update_fields=["status", "latest_revision", "updated_at"])
    audit.record(
        actor=actor,
        action="advisory.publish",
        obj=advisory,
        changes={
            "status": [before, advisory.status],
            "revision": [revision.number - 1 or None, revision.number],
            "csaf_sha256": [None, revision.csaf_sha256],
        },
    )
    return advisory


@transaction.atomic
def withdraw_advisory(*, actor: Any, advisory: Advisory, reason: str) -> Advisory:
    """A published advisory is withdrawn by a coordinator: a last revision says so (the
    published content, marked withdrawn with the reason); nothing is deleted."""
    advisory = _locked(advisory)
    _require_role(
        actor,
        advisory.team,
        TEAM_COORDINATE_ROLES,
        _("Only a coordinator of the authoring CERT (or above it) withdraws advisories."),
    )
    reason = _clean_text(_("reason"), reason, required=True, limit=2000)
    if advisory.status == AdvisoryStatus.WITHDRAWN:
        raise Conflict(_("This advisory is already withdrawn."))
    latest = advisory.latest_revision
    if latest is None:
        raise Conflict(_("Only a published advisory can be withdrawn."))
    content = {**latest.content, "withdrawn": True, "withdrawal_reason": reason}
    revision = _add_revision(
        actor=actor,
        advisory=advisory,
        content=content,
        change_summary=f"Withdrawn: {reason}"[:500],
        withdrawn=True,
        audience_source=latest,
    )
    before = advisory.status
    advisory.status = AdvisoryStatus.WITHDRAWN
    advisory.withdrawal_reason = reason
    advisory.save(update_fields=["status", "withdrawal_reason", "latest_revision", "updated_at"])
    audit.record(
        actor=actor,
        action="advisory.withdraw",
        obj=advisory,
        changes={
            "status": [before, AdvisoryStatus.WITHDRAWN.value],
            "revision": [revision.number - 1, revision.number],
            "withdrawal_reason": ["", reason],
        },
    )
    return advisory


@transaction.atomic
def import_csaf(*, actor: Any, team: Team | None, raw: bytes) -> Advisory:
    """A vendor's CSAF 2.0 document becomes a draft advisory of ``team`` with its
    products, CVEs (and CVSS vectors), remediation and references filled in."""
    imported = csaf.parse_document(raw)
    advisory = _create(actor, team, imported.as_fields())
    audit.record(
        actor=actor,
        action="advisory.import",
        obj=advisory,
        changes={
            "source": [None, f"{imported.source_publisher} {imported.source_id}".strip()],
            **audit.diff({}, _audit_view(advisory)),
        },
    )
    return advisory


# --- Distribution, inbox and acknowledgements -----------------------------------------------


@transaction.atomic
def distribute_revision(*, advisory_id: int, revision_number: int) -> int:
    """Deliver a published revision to its audience: each audience organization gets it
    in its certhub inbox (again unread when it is an update), and e-mails go out as
    ``distribution`` describes. Run by the worker after publication; a stale call (a newer
    revision exists) or a repeated one does nothing twice. Returns the messages queued."""
    from certhub.advisories import distribution, selectors

    advisory = Advisory.objects.select_related("team", "latest_revision").get(pk=advisory_id)
    revision = advisory.latest_revision
    if revision is None or revision.number != revision_number:
        return 0
    now = timezone.now()
    organizations = list(selectors.audience_organizations(revision))
    existing = {
        d.organization_id: d
        for d in AdvisoryDelivery.objects.select_for_update().filter(advisory_id=advisory.pk)
    }
    new, changed = [], []
    for org in organizations:
        delivery = existing.get(org.pk)
        if delivery is None:
            new.append(
                AdvisoryDelivery(
                    advisory=advisory,
                    organization=org,
                    revision_number=revision.number,
                    delivered_at=now,
                    updated_at=now,
                )
            )
        elif delivery.revision_number < revision.number:
            delivery.revision_number = revision.number
            delivery.updated_at = now
            delivery.read_at = None
            delivery.read_by = None
            changed.append(delivery)
    AdvisoryDelivery.objects.bulk_create(new)
    AdvisoryDelivery.objects.bulk_update(
        changed, ["revision_number", "updated_at", "read_at", "read_by"]
    )
    delivered_at = {d.organization_id: d.delivered_at for d in existing.values()}
    delivered_at.update({d.organization_id: now for d in new})
    sent = distribution.send_revision(advisory, revision, organizations, delivered_at)
    audit.record(
        actor=None,
        action="advisory.distribute",
        obj=advisory,
        changes={
            "revision": [None, revision.number],
            "organizations": [None, sent.organizations],
            "messages": [None, sent.messages],
        },
    )
    return sent.messages


@transaction.atomic
def mark_read(*, actor: Any, advisory: Advisory) -> int:
    """A member of an audience organization opened the advisory: its organization's inbox
    shows it read (the first reader of each revision is kept)."""
    scope = scope_for(actor)
    if not scope.org_ids:
        return 0
    unread = list(
        AdvisoryDelivery.objects.select_for_update().filter(
            advisory_id=advisory.pk,
            organization_id__in=sorted(scope.org_ids),
            read_at__isnull=True,
        )
    )
    now = timezone.now()
    for delivery in unread:
        delivery.read_at = now
        delivery.read_by = actor
        delivery.save(update_fields=["read_at", "read_by"])
        audit.record(
            actor=actor,
            action="advisory.read",
            obj=advisory,
            changes={"organization": [None, delivery.organization_id]},
        )
    return len(unread)


def _answering_delivery(actor: Any, advisory: Advisory, organization: str) -> AdvisoryDelivery:
    from certhub.advisories import selectors

    deliveries = selectors.deliveries_to_user(actor, advisory)
    if organization:
        deliveries = [d for d in deliveries if d.organization.slug == organization]
    if not deliveries:
        raise Forbidden(
            _("Only members of an organization this advisory was sent to acknowledge it.")
        )
    if len(deliveries) > 1:
        raise Invalid(_("Name the organization you answer for."))
    return deliveries[0]


@transaction.atomic
def acknowledge_advisory(
    *, actor: Any, advisory: Advisory, state: str, comment: str = "", organization: str = ""
) -> Acknowledgement:
    """An audience organization answers an advisory: received, applied, not affected, or
    needs help (saying with what). Every answer is kept; the latest counts. A member of
    several audience organizations names the one it answers for (its slug)."""
    state = _choice("state", state, AckState)
    comment = _clean_text(_("comment"), comment, limit=MAX_COMMENT)
    if state == AckState.NEED_HELP and not comment:
        raise Invalid(_("Say what you need help with."))
    advisory = _locked(advisory)
    revision = advisory.latest_revision
    if revision is None:
        raise Conflict(_("Only a published advisory can be acknowledged."))
    if revision.withdrawn:
        raise Conflict(_("This advisory is withdrawn: there is nothing to acknowledge."))
    delivery = _answering_delivery(actor, advisory, organization)
    previous = (
        Acknowledgement.objects.filter(
            advisory_id=advisory.pk, organization_id=delivery.organization_id
        )
        .values_list("state", flat=True)
        .first()
    )
    now = timezone.now()
    ack = Acknowledgement.objects.create(
        advisory=advisory,
        organization=delivery.organization,
        state=state,
        comment=comment,
        revision_number=revision.number,
        by=actor,
        by_name=actor.get_username() if actor is not None else "system",
        at=now,
    )
    if delivery.read_at is None:
        delivery.read_at, delivery.read_by = now, actor
        delivery.save(update_fields=["read_at", "read_by"])
    audit.record(
        actor=actor,
        action="advisory.acknowledge",
        obj=advisory,
        changes={
            "organization": [None, delivery.organization.slug],
            "state": [previous, state],
            **({"comment": [None, comment]} if comment else {}),
        },
    )
    if state == AckState.NEED_HELP:
        from certhub.advisories import distribution

        distribution.send_help_request(advisory, ack)
    return ack


def send_ack_reminders(*, now: Any = None) -> int:
    """Remind each audience organization, once, that has not acknowledged an advisory
    within its deadline (``Advisory.ack_hours``: 48 hours for a critical advisory unless
    it names its own). Each reminder is its own transaction, marked on the delivery and
    deduplicated in notify, so a second worker or run never sends it twice. Returns how
    many organizations were reminded."""
    from certhub.advisories import selectors

    now = now or timezone.now()
    count = 0
    for delivery in list(selectors.reminders_due(now)[:1000]):
        hours = delivery.advisory.ack_hours
        if hours and delivery.delivered_at + dt.timedelta(hours=hours) <= now:
            count += _remind(delivery.pk, now)
    return count


@transaction.atomic
def _remind(delivery_id: int, now: Any) -> int:
    from certhub.advisories import distribution, selectors

    delivery = (
        selectors.reminders_due(now)
        .select_for_update(of=("self",), skip_locked=True)
        .filter(pk=delivery_id)
        .first()
    )
    if delivery is None:
        return 0
    delivery.reminded_at = now
    delivery.save(update_fields=["reminded_at"])
    advisory = Advisory.objects.select_related("latest_revision").get(pk=delivery.advisory_id)
    deadline = distribution.ack_deadline(advisory, delivery.delivered_at) or now
    distribution.send_reminder(advisory, delivery.organization, deadline)
    audit.record(
        actor=None,
        action="advisory.remind",
        obj=advisory,
        changes={"organization": [None, delivery.organization.slug]},
    )
    return 1
