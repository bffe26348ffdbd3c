"""Every write of STIX, TAXII and MISP interchange: sharing an incident's indicators
to a collection, objects posted to a collection, and bundles or MISP events imported
into incidents. Keyword-only, one transaction each, each with its audit entry.

Observables reach incidents only through ``incidents.services`` (``report_incident``,
``add_observables``), so their rules (who may add, normalisation, timeline) hold."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from certhub.audit import services as audit
from certhub.core.errors import Forbidden, Invalid, NotFound
from certhub.incidents import services as incident_services
from certhub.incidents.models import Incident
from certhub.incidents.selectors import access_for, get_incident
from certhub.intel import stix
from certhub.intel.exchange_models import Collection, CollectionKind, EnvelopeStatus, SharedObject
from certhub.intel.exchange_selectors import (
    access_to_collection,
    ceiling_allows,
    incident_export,
)
from certhub.tenancy.choices import TeamKind
from certhub.tenancy.models import Sector, Team
from certhub.tenancy.selectors import national_team
from certhub.tenancy.tlp import TLP, Audience, SharePath, sharing_refusal, strictest

MAX_OBJECTS_PER_ENVELOPE = 10_000


# --- Collections --------------------------------------------------------------------


def _national_team() -> Team:
    team = national_team()
    if team is None:
        raise NotFound(_("There is no national team yet."))
    return team


def _collection_for(target: str) -> Collection:
    """The collection named by ``team:<slug>``, ``sector:<slug>`` or ``national``,
    made on first use (its owner: the team; the sector's sectoral CERT or the national
    team; the national team)."""
    kind, _sep, slug = str(target).partition(":")
    if kind == CollectionKind.NATIONAL:
        team = _national_team()
        collection, _made = Collection.objects.get_or_create(
            kind=CollectionKind.NATIONAL,
            defaults={
                "team": team,
                "title": _("National indicators"),
                "description": _("Indicators shared with the whole national community."),
                "tlp_ceiling": TLP.GREEN,
            },
        )
        return collection
    if kind == CollectionKind.TEAM:
        team_obj = Team.objects.filter(slug=slug).first()
        if team_obj is None:
            raise NotFound(_("No such team."))
        collection, _made = Collection.objects.get_or_create(
            kind=CollectionKind.TEAM,
            team=team_obj,
            defaults={
                "title": _("%(team)s indicators") % {"team": team_obj.name},
                "description": _("Indicators %(team)s shares with its constituents.")
                % {"team": team_obj.name},
                "tlp_ceiling": TLP.AMBER_STRICT,
            },
        )
        return collection
    if kind == CollectionKind.SECTOR:
        sector = Sector.objects.filter(slug=slug).first()
        if sector is None:
            raise NotFound(_("No such sector."))
        owner = (
            Team.objects.filter(organizations__sector=sector, kind=TeamKind.SECTORAL)
            .distinct()
            .order_by("depth", "id")
            .first()
            or _national_team()
        )
        collection, _made = Collection.objects.get_or_create(
            kind=CollectionKind.SECTOR,
            sector=sector,
            defaults={
                "team": owner,
                "title": _("%(sector)s sector indicators") % {"sector": sector.name},
                "description": _("Indicators shared within the %(sector)s sector.")
                % {"sector": sector.name},
                "tlp_ceiling": TLP.AMBER,
            },
        )
        return collection
    raise Invalid(_("Name a collection as team:<slug>, sector:<slug> or national."))


@transaction.atomic
def open_collection(*, actor: Any, target: str) -> Collection:
    """The collection of a team, a sector or the nation (made on first use); only who
    may write it may open it."""
    collection = _collection_for(target)
    if not access_to_collection(actor, collection).can_write:
        raise NotFound(_("No such collection."))
    return collection


# --- Adding objects -----------------------------------------------------------------


def _version_of(body: dict[str, Any]) -> dt.datetime | None:
    raw = body.get("modified") or body.get("created")
    if raw is None and body.get("type") in ("marking-definition",):
        raw = body.get("created")
    if raw is None:
        return dt.datetime(1970, 1, 1, tzinfo=dt.UTC)  # SCOs have no version
    try:
        parsed = parse_datetime(str(raw)[:64])
    except ValueError:  # well formed but impossible (month 13)
        return None
    if parsed is None:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


@dataclass
class AddReport:
    """What was taken into a collection and what was refused (with why)."""

    added: list[str] = field(default_factory=list)
    refused: list[dict[str, str]] = field(default_factory=list)
    already: list[str] = field(default_factory=list)
    collection_id: str = ""


def _store(
    collection: Collection,
    actor: Any,
    bodies: Sequence[tuple[dict[str, Any], str]],
    *,
    incident: Incident | None,
) -> AddReport:
    """Store (object, TLP) pairs in the collection; one bulk insert, one date_added."""
    report = AddReport(collection_id=str(collection.pk))
    now = timezone.now()
    candidates: dict[tuple[str, dt.datetime], SharedObject] = {}
    for body, tlp in bodies:
        stix_id, stix_type = str(body.get("id", "")), str(body.get("type", ""))
        version = _version_of(body)
        if not stix_id or "--" not in stix_id or not stix_type or version is None:
            report.refused.append(
                {"source": stix_id[:120] or "?", "reason": _("Not a STIX object with an id.")}
            )
            continue
        refusal = sharing_refusal(tlp, path=SharePath.TAXII, audience=Audience.ORGANIZATION)
        if refusal is None and not ceiling_allows(collection, tlp):
            refusal = _("%(tlp)s is above this collection's ceiling (%(ceiling)s).") % {
                "tlp": TLP(tlp).label,
                "ceiling": TLP(collection.tlp_ceiling).label,
            }
        if refusal:
            report.refused.append({"source": stix_id[:120], "reason": refusal})
            continue
        candidates[(stix_id[:120], version)] = SharedObject(
            collection=collection,
            stix_id=stix_id[:120],
            stix_type=stix_type[:60],
            version=version,
            spec_version=str(body.get("spec_version", "2.1"))[:10],
            date_added=now,
            tlp=tlp,
            body=body,
            source_incident=incident,
            added_by=actor if getattr(actor, "pk", None) else None,
        )
    existing = set(
        SharedObject.objects.filter(
            collection=collection, stix_id__in={key[0] for key in candidates}
        ).values_list("stix_id", "version")
    )
    new = []
    for key, row in candidates.items():
        if key in existing:
            report.already.append(key[0])
        else:
            new.append(row)
            report.added.append(key[0])
    SharedObject.objects.bulk_create(new, batch_size=1000)
    return report


@transaction.atomic
def share_incident(*, actor: Any, reference: str, target: str) -> AddReport:
    """Share an incident's indicators (as STIX objects) to a collection. Internal
    observables never go; each observable's label must let it go to the collection's
    readers and stay under its ceiling, or it is refused with the reason."""
    incident = get_incident(actor, reference)
    access = access_for(actor, incident)
    if not access.can_contribute:
        raise Forbidden(_("Only CERT analysts and coordinators on this incident share it."))
    collection = _collection_for(target)
    if not access_to_collection(actor, collection).can_write:
        raise NotFound(_("No such collection."))
    export = incident_export(actor, reference, path=SharePath.TAXII)
    if export.refusal:
        raise Forbidden(export.refusal)
    bodies: list[tuple[dict[str, Any], str]] = []
    refused = list(export.withheld)
    producer = incident.handling_team
    for observable in export.observables:
        if observable.internal:
            refused.append(
                {
                    "source": f"{observable.kind}:{observable.value}",
                    "reason": _("Internal observables are not shared."),
                }
            )
            continue
        label = strictest(observable.tlp, incident.tlp)
        item = stix.ExportItem(
            observable.kind,
            observable.value,
            label,
            observable.created_at,
            incident.reference,
            observable.comment,
        )
        bundle = stix.build_bundle([item], producer_slug=producer.slug, producer_name=producer.name)
        for body in bundle["objects"]:
            if body["type"] == "marking-definition" or body["type"] == "identity":
                bodies.append((body, TLP.CLEAR))
            else:
                bodies.append((body, label))
    if not bodies and not refused:
        raise Invalid(_("This incident has no observables to share."))
    report = _store(collection, actor, bodies, incident=incident)
    report.refused = refused + report.refused
    audit.record(
        actor=actor,
        action="intel.shared_to_collection",
        obj=collection,
        object_repr=f"{incident.reference} -> {collection.title}",
        changes={"added": len(report.added), "refused": len(report.refused)},
    )
    return report


@transaction.atomic
def add_envelope(*, actor: Any, collection: Collection, envelope: Any) -> EnvelopeStatus:
    """A TAXII envelope posted to a collection: each object is taken with the TLP its
    markings give (TLP:AMBER when unmarked), or refused; the status resource says which."""
    if not access_to_collection(actor, collection).can_write:
        raise Forbidden(_("You may not add objects to this collection."))
    if not isinstance(envelope, dict) or not isinstance(envelope.get("objects"), list):
        raise Invalid(_("Send a TAXII envelope: an object with an objects list."))
    objects = envelope["objects"]
    if len(objects) > MAX_OBJECTS_PER_ENVELOPE:
        raise Invalid(
            _("At most %(count)d objects per envelope.") % {"count": MAX_OBJECTS_PER_ENVELOPE}
        )
    bodies: list[tuple[dict[str, Any], str]] = []
    refused: list[dict[str, str]] = []
    for body in objects:
        if not isinstance(body, dict):
            refused.append({"source": "?", "reason": _("Not a STIX object.")})
            continue
        label: str = (
            TLP.CLEAR if body.get("type") == "marking-definition" else stix.tlp_of(body, TLP.AMBER)
        )
        bodies.append((body, label))
    report = _store(collection, actor, bodies, incident=None)
    refused += report.refused
    successes = [{"id": i, "message": "added"} for i in report.added + report.already]
    status = EnvelopeStatus.objects.create(
        collection=collection,
        status="complete",
        request_timestamp=timezone.now(),
        total_count=len(objects),
        success_count=len(successes),
        failure_count=len(refused),
        pending_count=0,
        successes=successes,
        failures=[{"id": r["source"], "message": r["reason"]} for r in refused],
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    audit.record(
        actor=actor,
        action="intel.envelope_added",
        obj=collection,
        changes={"added": len(report.added), "refused": len(refused)},
    )
    return status


# --- Importing into incidents -------------------------------------------------------


@dataclass
class ImportReport:
    """What an import took into which incident, and what it refused (with why)."""

    incident: Incident
    taken: list[str] = field(default_factory=list)
    refused: list[dict[str, str]] = field(default_factory=list)
    created: bool = False


@transaction.atomic
def import_plan(
    *,
    actor: Any,
    plan: stix.ImportPlan,
    reference: str | None = None,
    title: str = "",
    reporting_org: str | None = None,
    tlp: str = TLP.AMBER,
) -> ImportReport:
    """Take a bundle's (or a MISP event's) indicators into an existing incident's
    observables, or into a new incident recorded by ``actor`` (through the incidents
    services, so their rules hold). A value labelled more strictly than the incident is
    refused: it would be shown to people its label does not allow."""
    if not plan.candidates and not plan.refused:
        raise Invalid(_("The document holds no indicators."))
    created = False
    if reference:
        incident = get_incident(actor, reference)
    else:
        incident = incident_services.report_incident(
            actor=actor,
            title=(title or plan.title or _("Imported indicators"))[:300],
            reporting_org=reporting_org,
            tlp=strictest(tlp, *[label for _k, _v, label in plan.candidates]),
        )
        created = True
    report = ImportReport(incident=incident, refused=list(plan.refused), created=created)
    by_label: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for kind, value, label in plan.candidates:
        if strictest(label, incident.tlp) != incident.tlp:
            report.refused.append(
                {
                    "source": f"{kind}:{value}",
                    "reason": _("%(tlp)s is stricter than the incident's %(incident_tlp)s.")
                    % {"tlp": TLP(label).label, "incident_tlp": TLP(incident.tlp).label},
                }
            )
            continue
        by_label[label].append((kind, value))
    for label, items in by_label.items():
        added = incident_services.add_observables(
            actor=actor, incident=incident, items=items, tlp=label
        )
        report.taken += [f"{o.kind}:{o.value}" for o in added]
    audit.record(
        actor=actor,
        action="intel.imported",
        obj=incident,
        object_repr=incident.reference,
        changes={"taken": len(report.taken), "refused": len(report.refused)},
    )
    return report
