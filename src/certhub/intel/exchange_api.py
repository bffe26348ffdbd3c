"""API of STIX, TAXII and MISP interchange under /api/v1/: an incident as a STIX 2.1
bundle or a MISP event, a search result as a bundle, bundles and MISP events imported
into incidents, sharing an incident's indicators to a TAXII collection, and the
collections the caller reads. TLP applies on every way out (``tenancy.tlp``)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Path, Router, Schema
from ninja import Status as Reply

from certhub.accounts.selectors import current_user
from certhub.core.errors import Forbidden, Invalid
from certhub.incidents.observables import extract
from certhub.incidents.selectors import REFERENCE_PATTERN
from certhub.intel import exchange_selectors as selectors
from certhub.intel import exchange_services as services
from certhub.intel import misp, stix
from certhub.tenancy.tlp import TLP, SharePath

router = Router(tags=["intel"])

REF = Path(..., pattern=REFERENCE_PATTERN, description="e.g. CERT-2026-000123")
COLLECTION_TARGET = r"^(team:[a-z0-9-]{1,100}|sector:[a-z0-9-]{1,100}|national)$"


class ErrorOut(Schema):
    detail: str


READ_ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}
WRITE_ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}


class Refusal(Schema):
    source: str = Field(description="What was refused (an object id or kind:value).")
    reason: str


class ImportOut(Schema):
    reference: str = Field(description="The incident the indicators went into.")
    created: bool = Field(description="True when the import opened a new incident.")
    taken: list[str] = Field(description="kind:value of each observable added.")
    refused: list[Refusal]


class StixImportIn(Schema):
    bundle: dict[str, Any] = Field(description="A STIX 2.1 bundle.")
    reference: str | None = Field(
        None, pattern=REFERENCE_PATTERN, description="Add to this incident; else open one."
    )
    title: str = Field("", max_length=300, description="Title of a new incident.")
    reporting_org: str | None = Field(None, max_length=100, pattern=r"^[a-z0-9-]+$")
    tlp: TLP = Field(TLP.AMBER, description="Label of a new incident (at least).")


class MispImportIn(Schema):
    event: dict[str, Any] = Field(description='A MISP event ({"Event": {...}} or bare).')
    reference: str | None = Field(None, pattern=REFERENCE_PATTERN)
    reporting_org: str | None = Field(None, max_length=100, pattern=r"^[a-z0-9-]+$")
    tlp: TLP = TLP.AMBER


class SearchExportIn(Schema):
    values: str = Field(
        ..., min_length=1, max_length=100_000, description="Pasted indicators (defanged is fine)."
    )


class ShareIn(Schema):
    collection: str = Field(
        ..., pattern=COLLECTION_TARGET, description="team:<slug>, sector:<slug> or national"
    )


class ShareOut(Schema):
    collection_id: str
    added: list[str] = Field(description="STIX ids added to the collection.")
    already: list[str] = Field(description="STIX ids the collection already held.")
    refused: list[Refusal]


class CollectionOut(Schema):
    id: str
    kind: str
    title: str
    team: str
    sector: str | None
    tlp_ceiling: str
    can_read: bool
    can_write: bool


def _refusals(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    return [{"source": r["source"], "reason": r["reason"]} for r in rows]


def _export_items(export: selectors.IncidentExport) -> list[stix.ExportItem]:
    return [
        stix.ExportItem(o.kind, o.value, o.tlp, o.created_at, export.incident.reference, o.comment)
        for o in export.observables
    ]


@router.get(
    "/incidents/{reference}/stix",
    response={200: dict[str, Any], **READ_ERRORS},
    summary="The incident's indicators as a STIX 2.1 bundle (TLP 2.0 markings)",
    description="Indicators with patterns, observed-data, sightings by the handling team "
    "(its identity) and TLP 2.0 marking-definitions. Observables whose label does not "
    "let them go to you are left out; a TLP:RED incident you are not named on answers 403.",
)
def incident_stix(request: HttpRequest, reference: str = REF) -> dict[str, Any]:
    user = current_user(request)
    export = selectors.incident_export(user, reference, path=SharePath.STIX)
    if export.refusal:
        raise Forbidden(export.refusal)
    team = export.incident.handling_team
    return stix.build_bundle(
        _export_items(export),
        producer_slug=team.slug,
        producer_name=team.name,
        grouping=(
            f"{export.incident.reference} {export.incident.title}",
            export.incident.reference,
        ),
    )


@router.post(
    "/intel/stix/search",
    response={200: dict[str, Any], **WRITE_ERRORS},
    summary="A STIX 2.1 bundle of every sighting you may see of the pasted indicators",
)
def search_stix(request: HttpRequest, payload: SearchExportIn) -> dict[str, Any]:
    user = current_user(request)
    wanted = [(i.kind, i.value) for i in extract(payload.values, limit=1000)]
    if not wanted:
        raise Invalid(_("No indicator found in what you sent."))
    items = [
        stix.ExportItem(o.kind, o.value, o.tlp, o.created_at, o.incident.reference, o.comment)
        for o in selectors.searchable_observables(user, wanted)
    ]
    from certhub.tenancy.selectors import memberships_of

    teams, _orgs = memberships_of(user)
    producer = teams[0].team if teams else None
    return stix.build_bundle(
        items,
        producer_slug=producer.slug if producer else "certhub",
        producer_name=producer.name if producer else "certhub",
    )


def _import_out(report: services.ImportReport) -> dict[str, Any]:
    return {
        "reference": report.incident.reference,
        "created": report.created,
        "taken": report.taken,
        "refused": _refusals(report.refused),
    }


@router.post(
    "/intel/stix/import",
    response={200: ImportOut, 201: ImportOut, **WRITE_ERRORS},
    summary="Import a STIX 2.1 bundle into an incident's observables, or a new incident",
    description="Returns what was taken and what was refused, with the reason.",
)
def import_stix(request: HttpRequest, payload: StixImportIn) -> Reply[Any]:
    user = current_user(request)
    plan = stix.plan_bundle(payload.bundle, default_tlp=payload.tlp.value)
    report = services.import_plan(
        actor=user,
        plan=plan,
        reference=payload.reference,
        title=payload.title,
        reporting_org=payload.reporting_org,
        tlp=payload.tlp.value,
    )
    return Reply(201 if report.created else 200, _import_out(report))


@router.get(
    "/incidents/{reference}/misp",
    response={200: dict[str, Any], **READ_ERRORS},
    summary="The incident as a MISP event (attributes, tlp: and rsit: tags, distribution)",
)
def incident_misp(request: HttpRequest, reference: str = REF) -> dict[str, Any]:
    user = current_user(request)
    export = selectors.incident_export(user, reference, path=SharePath.MISP)
    if export.refusal:
        raise Forbidden(export.refusal)
    return {"Event": misp.event(export.incident, export.observables)}


@router.post(
    "/intel/misp/import",
    response={200: ImportOut, 201: ImportOut, **WRITE_ERRORS},
    summary="Import a MISP event's attributes into an incident, or a new incident",
)
def import_misp(request: HttpRequest, payload: MispImportIn) -> Reply[Any]:
    user = current_user(request)
    plan = misp.plan_event(payload.event, default_tlp=payload.tlp.value)
    report = services.import_plan(
        actor=user,
        plan=plan,
        reference=payload.reference,
        reporting_org=payload.reporting_org,
        tlp=payload.tlp.value,
    )
    return Reply(201 if report.created else 200, _import_out(report))


@router.post(
    "/incidents/{reference}/share",
    response={200: ShareOut, **WRITE_ERRORS},
    summary="Share the incident's indicators to a TAXII collection",
    description="Analysts and coordinators on the incident who may write the collection. "
    "Internal observables and those whose label does not allow the collection are refused.",
)
def share_incident(request: HttpRequest, payload: ShareIn, reference: str = REF) -> Any:
    user = current_user(request)
    report = services.share_incident(actor=user, reference=reference, target=payload.collection)
    return {
        "collection_id": report.collection_id,
        "added": report.added,
        "already": report.already,
        "refused": _refusals(report.refused),
    }


@router.get(
    "/intel/collections",
    response={200: list[CollectionOut], 401: ErrorOut},
    summary="The TAXII collections you may read, with your rights",
)
def list_collections(request: HttpRequest) -> list[dict[str, Any]]:
    user = current_user(request)
    return [
        {
            "id": str(a.collection.pk),
            "kind": a.collection.kind,
            "title": a.collection.title,
            "team": a.collection.team.slug,
            "sector": a.collection.sector.slug if a.collection.sector else None,
            "tlp_ceiling": a.collection.tlp_ceiling,
            "can_read": a.can_read,
            "can_write": a.can_write,
        }
        for a in selectors.collections_readable_by(user)
    ]
