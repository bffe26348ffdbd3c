"""Reads for STIX, TAXII and MISP interchange, scoped by visibility and by TLP.

Who reads a collection (its audience is measured from its owner team and, for a sector
collection, the sector's organizations, with ``tenancy.tlp.audience_of``):
- a team collection: the team and the teams above it (the organization), the teams
  below it and the organizations it is responsible for (its clients);
- a sector collection: as a team collection of its owner, plus the sector's
  organizations (the organization) and every CERT team (the community);
- the national collection: every member of a team or an organization (the community).
Each object is then given only when its TLP label lets it go to the reader's audience
(``tenancy.tlp.sharing_refusal``, the one check). Analysts and coordinators of the owner
team or a team above it may add objects.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext as _

from certhub.core.errors import NotFound
from certhub.incidents.models import Incident, Observable
from certhub.incidents.selectors import (
    access_for,
    get_incident,
    observables_for,
    observables_visible_in,
)
from certhub.intel.exchange_models import Collection, CollectionKind, EnvelopeStatus, SharedObject
from certhub.tenancy.models import Organization
from certhub.tenancy.tlp import (
    ORDER,
    TLP,
    Audience,
    Holders,
    SharePath,
    audience_of,
    labels_shareable,
    sharing_refusal,
)
from certhub.tenancy.visibility import TEAM_WRITE_ROLES, scope_for


def incident_holders(incident: Incident) -> Holders:
    """Who holds an incident's content: its named recipients, its handling and
    participating teams, its reporting and affected organizations (through the
    prefetch cache when there is one)."""
    recipients = list(incident.recipients.all())
    org_ids = {org.pk for org in incident.affected_orgs.all()}
    if incident.reporting_org_id:
        org_ids.add(incident.reporting_org_id)
    paths = [incident.handling_team.path] + [p.team.path for p in incident.participations.all()]
    return Holders(
        named_user_ids=frozenset(r.user_id for r in recipients if r.user_id),
        named_team_ids=frozenset(r.team_id for r in recipients if r.team_id),
        team_paths=tuple(paths),
        org_ids=frozenset(org_ids),
    )


@dataclass(frozen=True)
class IncidentExport:
    """What of one incident may leave certhub on one path for one user."""

    incident: Incident
    observables: list[Observable]
    withheld: list[dict[str, str]]
    refusal: str | None


def incident_export(user: Any, reference: str, *, path: str) -> IncidentExport:
    """The incident's observables the user may see, each checked against its own label
    for this user's audience; ``refusal`` when the incident's label refuses it all."""
    return export_of(user, get_incident(user, reference), path=path)


def export_of(
    user: Any, incident: Incident, *, path: str, only: set[int] | None = None
) -> IncidentExport:
    """``incident_export`` of a visible incident already read (``only``: the ids of the
    observables to keep, e.g. those a search matched)."""
    access = access_for(user, incident)
    audience = audience_of(user, incident_holders(incident))
    refusal = sharing_refusal(incident.tlp, path=path, audience=audience)
    if refusal or not access.full_content:
        return IncidentExport(incident, [], [], refusal or _("TLP:RED content is withheld."))
    taken: list[Observable] = []
    withheld: list[dict[str, str]] = []
    observables = observables_for(incident, access)
    if only is not None:
        observables = [o for o in observables if o.pk in only]
    for observable in observables:
        why = sharing_refusal(observable.tlp, path=path, audience=audience)
        if why:
            withheld.append({"source": f"{observable.kind}:{observable.value}", "reason": why})
        else:
            taken.append(observable)
    return IncidentExport(incident, taken, withheld, None)


def searchable_observables(user: Any, values: list[tuple[str, str]]) -> list[Observable]:
    """Observables with these (kind, value) pairs in incidents the user sees with full
    content, each only when its label lets it go to the user (a search result to export)."""
    from certhub.incidents.selectors import incidents_visible_to, observables_visible_in

    if not values:
        return []
    wanted = Q(pk__in=[])
    for kind, value in values:
        wanted |= Q(kind=kind, value=value)
    rows = (
        observables_visible_in(user)
        .filter(wanted, incident__in=incidents_visible_to(user))
        .select_related("incident", "incident__handling_team")
        .prefetch_related(
            "incident__recipients", "incident__affected_orgs", "incident__participations__team"
        )
        .order_by("id")[:5000]
    )
    taken = []
    for observable in rows:
        incident = observable.incident
        if not access_for(user, incident).full_content:
            continue
        audience = audience_of(user, incident_holders(incident))
        label = observable.tlp if incident.tlp != TLP.RED else TLP.RED
        if sharing_refusal(label, path=SharePath.STIX, audience=audience) is None:
            taken.append(observable)
    return taken


# --- Collections --------------------------------------------------------------------


def _sector_orgs(sector_ids: Iterable[int]) -> dict[int, frozenset[int]]:
    """The organizations of each sector (one query for all of them)."""
    found: dict[int, set[int]] = defaultdict(set)
    for pk, sector_id in Organization.objects.filter(
        sector_id__in=sorted(set(sector_ids))
    ).values_list("pk", "sector_id"):
        found[sector_id].add(pk)
    return {sector_id: frozenset(pks) for sector_id, pks in found.items()}


def collection_holders(
    collection: Collection, sector_orgs: dict[int, frozenset[int]] | None = None
) -> Holders:
    """Who holds a collection's information: its team, and a sector collection's
    organizations (``sector_orgs``: read beforehand for many collections)."""
    org_ids: frozenset[int] = frozenset()
    if collection.kind == CollectionKind.SECTOR and collection.sector_id:
        if sector_orgs is None:
            sector_orgs = _sector_orgs([collection.sector_id])
        org_ids = sector_orgs.get(collection.sector_id, frozenset())
    return Holders(team_paths=(collection.team.path,), org_ids=org_ids)


@dataclass(frozen=True)
class CollectionAccess:
    collection: Collection
    audience: Audience
    can_read: bool
    can_write: bool

    @property
    def labels(self) -> list[str]:
        """The labels this reader gets from this collection."""
        return labels_shareable(path=SharePath.TAXII, audience=self.audience)


def access_to_collection(
    user: Any, collection: Collection, sector_orgs: dict[int, frozenset[int]] | None = None
) -> CollectionAccess:
    scope = scope_for(user)
    audience = audience_of(user, collection_holders(collection, sector_orgs))
    if scope.is_admin:
        can_read = True
    elif not scope.has_seat:
        can_read = False  # no seat in the constituency (a Council member, a new account)
    elif collection.kind == CollectionKind.NATIONAL:
        can_read = True  # every seat reads the national collection
    elif collection.kind == CollectionKind.SECTOR:
        can_read = audience <= Audience.PASSED_ON or bool(scope.teams)
    else:
        can_read = audience <= Audience.PASSED_ON
    can_write = can_read and scope.role_in_team_over(collection.team.path) in TEAM_WRITE_ROLES
    return CollectionAccess(collection, audience, can_read, can_write)


def collections_readable_by(user: Any) -> list[CollectionAccess]:
    rows = list(Collection.objects.select_related("team", "sector").order_by("kind", "title", "id"))
    sector_orgs = _sector_orgs(c.sector_id for c in rows if c.sector_id)
    accesses = [access_to_collection(user, collection, sector_orgs) for collection in rows]
    return [access for access in accesses if access.can_read]


def get_collection(user: Any, collection_id: str) -> CollectionAccess:
    try:
        key = uuid.UUID(str(collection_id))
    except ValueError as exc:
        raise NotFound(_("No such collection.")) from exc
    collection = Collection.objects.select_related("team", "sector").filter(pk=key).first()
    if collection is None:
        raise NotFound(_("No such collection."))
    access = access_to_collection(user, collection)
    if not access.can_read:
        raise NotFound(_("No such collection."))
    return access


def collections_writable_by(user: Any) -> list[Collection]:
    return [a.collection for a in collections_readable_by(user) if a.can_write]


@dataclass(frozen=True)
class ObjectFilter:
    added_after: dt.datetime | None = None
    ids: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    versions: tuple[str | dt.datetime, ...] = ("last",)  # "last", "first", "all", or times
    spec_versions: tuple[str, ...] = ()


def objects_readable(access: CollectionAccess, filters: ObjectFilter) -> QuerySet[SharedObject]:
    """The objects of a collection this reader gets, filtered as TAXII asks, in
    ``date_added`` then ``id`` order."""
    rows = SharedObject.objects.filter(
        collection_id=access.collection.pk, tlp__in=access.labels
    ).order_by("date_added", "id")
    if filters.added_after is not None:
        rows = rows.filter(date_added__gt=filters.added_after)
    if filters.ids:
        rows = rows.filter(stix_id__in=filters.ids)
    if filters.types:
        rows = rows.filter(stix_type__in=filters.types)
    if filters.spec_versions:
        rows = rows.filter(spec_version__in=filters.spec_versions)
    versions = set(filters.versions) or {"last"}
    if "all" in versions:
        return rows
    same = SharedObject.objects.filter(
        collection_id=access.collection.pk, stix_id=OuterRef("stix_id"), tlp__in=access.labels
    )
    condition = Q(pk__in=[])
    if "last" in versions:
        condition |= ~Q(Exists(same.filter(version__gt=OuterRef("version"))))
    if "first" in versions:
        condition |= ~Q(Exists(same.filter(version__lt=OuterRef("version"))))
    stamps = [v for v in versions if isinstance(v, dt.datetime)]
    if stamps:
        condition |= Q(version__in=stamps)
    return rows.filter(condition)


def get_status(user: Any, status_id: str) -> EnvelopeStatus:
    try:
        key = uuid.UUID(str(status_id))
    except ValueError as exc:
        raise NotFound(_("No such status.")) from exc
    status = EnvelopeStatus.objects.select_related("collection", "collection__team").filter(pk=key)
    found = status.first()
    if found is None or not access_to_collection(user, found.collection).can_write:
        raise NotFound(_("No such status."))
    return found


def ceiling_allows(collection: Collection, tlp: str) -> bool:
    return ORDER.index(TLP(tlp)) <= ORDER.index(TLP(collection.tlp_ceiling))


# --- MISP -----------------------------------------------------------------------------


def incident_by_event_id(user: Any, event_id: str) -> Incident:
    """The visible incident behind a MISP event id (the incident's id)."""
    from certhub.incidents.selectors import incidents_visible_to, with_details

    text = str(event_id).removesuffix(".json")
    if not text.isdigit() or len(text) > 18:
        raise NotFound(_("No such event."))
    incident = with_details(incidents_visible_to(user)).filter(pk=int(text)).first()
    if incident is None:
        raise NotFound(_("No such event."))
    return incident


@dataclass(frozen=True)
class MispSearch:
    values: list[str]
    types: list[str]
    tags: list[str]
    since: dt.datetime | None
    until: dt.datetime | None
    event_ids: list[str]
    limit: int = 100
    page: int = 1


@dataclass(frozen=True)
class MispHit:
    incident: Incident
    observables: list[Observable]


def _tag_condition(tag: str) -> Q | None:
    name = tag.strip()
    if name.lower().startswith("tlp:"):
        level = name[4:].upper().replace("WHITE", "CLEAR")
        return Q(tlp=level) if level in TLP.values else Q(pk__in=[])
    if name.lower().startswith("rsit:"):
        category, _sep, type_ = name[5:].partition("=")
        condition = Q(category=category.strip())
        if type_:
            condition &= Q(type=type_.strip().strip('"'))
        return condition
    return Q(pk__in=[])  # certhub has no other tags: nothing carries them


def misp_search(user: Any, search: MispSearch, *, attributes: bool = False) -> list[MispHit]:
    """Visible incidents (as events) or their observables (as attributes) matching a
    MISP restSearch, newest first, each checked against TLP for the MISP path."""
    from certhub.incidents.selectors import incidents_visible_to, with_details
    from certhub.intel.misp import KINDS_OF_MISP_TYPE

    incidents = incidents_visible_to(user)
    observable_q = Q()
    if search.event_ids:
        ids = [int(e) for e in search.event_ids if e.isdigit() and len(e) < 19]
        incidents = incidents.filter(pk__in=ids)
    for tag in search.tags:
        negate = tag.startswith("!")
        condition = _tag_condition(tag[1:] if negate else tag)
        if condition is not None:
            incidents = incidents.exclude(condition) if negate else incidents.filter(condition)
    if search.values:
        by_value = Q(pk__in=[])
        for value in search.values:
            if "%" in value:
                by_value |= Q(value__icontains=value.replace("%", ""))
            else:
                by_value |= Q(value=value) | Q(value=value.strip().lower())
        observable_q &= by_value
    if search.types:
        kinds: set[str] = set()
        for misp_type in search.types:
            if misp_type in KINDS_OF_MISP_TYPE:
                kind = KINDS_OF_MISP_TYPE[misp_type]
                kinds |= {kind} if kind else {"ipv4", "ipv6", "cidr"}
        observable_q &= Q(kind__in=sorted(kinds))
    time_field = "created_at" if attributes else None
    if attributes:
        if search.since:
            observable_q &= Q(created_at__gte=search.since)
        if search.until:
            observable_q &= Q(created_at__lte=search.until)
    else:
        if search.since:
            incidents = incidents.filter(updated_at__gte=search.since)
        if search.until:
            incidents = incidents.filter(updated_at__lte=search.until)
    narrowed = bool(search.values or search.types or time_field)
    if narrowed:
        # Only observables the reader may see: an internal or RED value must not tell an
        # organization member which incident holds it.
        matching = observables_visible_in(user).filter(observable_q).values("incident_id")
        incidents = incidents.filter(pk__in=matching)
    start = (search.page - 1) * search.limit
    rows = list(
        with_details(incidents.order_by("-id")).prefetch_related("observables")[
            start : start + search.limit
        ]
    )
    matched: set[int] | None = None
    if attributes:
        matched = set(
            Observable.objects.filter(
                observable_q, incident_id__in=[i.pk for i in rows]
            ).values_list("pk", flat=True)
        )
    hits = []
    for incident in rows:
        export = export_of(user, incident, path=SharePath.MISP, only=matched)
        if export.refusal is None:
            hits.append(MispHit(incident, export.observables))
    return hits
