"""Every read of the correlation index, scoped by the visibility rules (DESIGN.md
section 3).

What a reader learns about a value seen elsewhere:
- CERT staff (team members) and platform admins get the counts over the whole
  constituency: in how many other incidents, of how many organizations, in how many
  sectors, and in how many feed events the value was seen (statistics stay whole). They
  get a link only to incidents they may see themselves (``incidents_visible_to``), and
  the feed days of organizations they cover; the rest is counted, never shown.
- Organization members learn only what they may see anyway: their own incidents and
  their organizations' feed events. They are never told that another organization has
  the value.
- TLP:RED observables and observables of TLP:RED incidents are neither shown nor
  counted, except to the recipients named on that incident: "this value is in a
  TLP:RED incident" would itself be RED content.
- Council members see no indicator at all (aggregates only); anyone else neither.
- Values flagged common (over CERTHUB_INTEL_COMMON_THRESHOLD) no longer link: the
  reader sees "common" and the counts kept on the flag.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Prefetch
from django.utils.translation import gettext as _

from certhub.core.errors import Invalid
from certhub.incidents.models import Incident, Observable, Recipient
from certhub.incidents.observables import Indicator, extract
from certhub.incidents.selectors import incidents_visible_to, is_named_recipient
from certhub.intel import index
from certhub.intel.correlation import (
    Probe,
    RangeProbe,
    Via,
    inside,
    key_of,
    parse_key,
    probes_for,
)
from certhub.intel.index import Hit
from certhub.intel.services import setting
from certhub.tenancy.models import Organization
from certhub.tenancy.tlp import TLP
from certhub.tenancy.visibility import Scope, scope_for

# Most values one search reads (a pasted report may hold thousands of tokens).
MAX_SEARCH_VALUES = 500


def may_search(user: Any) -> bool:
    """Who may look indicators up: signed-in CERT staff, organization members, admins."""
    scope = scope_for(user)
    return (
        scope.is_authenticated
        and not scope.is_council
        and (scope.is_admin or scope.is_cert_staff or bool(scope.org_ids))
    )


def is_staff(user: Any) -> bool:
    """Whether the reader gets constituency-wide counts (CERT staff and admins)."""
    scope = scope_for(user)
    return scope.is_admin or scope.is_cert_staff


@dataclass(frozen=True)
class SeenIn:
    """Another incident the reader may open, holding a matching value."""

    reference: str
    title: str
    status: str
    reported_at: dt.datetime
    kind: str
    value: str
    via: str


@dataclass(frozen=True)
class FeedDay:
    """Feed events of one organization on one day carrying a matching value."""

    day: dt.date
    events: int
    organization: str
    sector: str
    value: str
    via: str


@dataclass
class Correlation:
    """What the reader may learn about one value: counts and what it may open."""

    indicator: Indicator
    incidents: int = 0
    organizations: int = 0
    sectors: int = 0
    feed_events: int = 0
    common: bool = False
    widespread: bool = False
    seen_in: list[SeenIn] = field(default_factory=list)
    feed_days: list[FeedDay] = field(default_factory=list)
    hidden_incidents: int = 0  # counted, not shown

    @property
    def found(self) -> bool:
        return bool(self.incidents or self.feed_events or self.common)


@dataclass
class _Context:
    scope: Scope
    staff: bool
    observables: dict[int, tuple[str, bool]]  # observable id -> (tlp, internal)
    incidents: dict[int, Incident]
    visible: set[int]
    organizations: dict[int, Organization]


def _feed_visible(scope: Scope, organization: Organization | None) -> bool:
    if scope.is_admin:
        return True
    if organization is None:
        return False
    return organization.pk in scope.org_ids or scope.covers_team_path(
        organization.responsible_team.path
    )


def _load(user: Any, hits: list[Hit]) -> _Context:
    scope = scope_for(user)
    observable_ids = sorted({h.observable_id for h in hits if h.observable_id is not None})
    observables = {
        pk: (tlp, internal)
        for pk, tlp, internal in Observable.objects.filter(pk__in=observable_ids).values_list(
            "pk", "tlp", "internal"
        )
    }
    incident_ids = sorted({h.incident_id for h in hits if h.incident_id is not None})
    incidents = {
        i.pk: i
        for i in Incident.objects.filter(pk__in=incident_ids)
        .select_related("reporting_org")
        .prefetch_related("affected_orgs", Prefetch("recipients", queryset=Recipient.objects.all()))
    }
    visible = set(
        incidents_visible_to(user).filter(pk__in=incident_ids).values_list("pk", flat=True)
    )
    organization_ids = sorted({h.organization_id for h in hits if h.organization_id})
    organizations = {
        o.pk: o
        for o in Organization.objects.filter(pk__in=organization_ids).select_related(
            "responsible_team", "sector"
        )
    }
    return _Context(
        scope=scope,
        staff=scope.is_admin or scope.is_cert_staff,
        observables=observables,
        incidents=incidents,
        visible=visible,
        organizations=organizations,
    )


def _orgs_of(incident: Incident) -> list[Organization]:
    orgs = list(incident.affected_orgs.all())
    if incident.reporting_org is not None:
        orgs.append(incident.reporting_org)
    return orgs


def _tally(correlation: Correlation, matched: list[tuple[Hit, str]], context: _Context) -> None:
    scope = context.scope
    incidents: set[int] = set()
    organizations: set[int] = set()
    sectors: set[int] = set()
    shown: dict[int, SeenIn] = {}
    feed_rows: set[int] = set()
    for hit, via in matched:
        if hit.from_feed:
            if hit.id in feed_rows:
                continue
            organization = context.organizations.get(hit.organization_id or 0)
            visible = _feed_visible(scope, organization)
            if not (context.staff or visible):
                continue
            feed_rows.add(hit.id)
            correlation.feed_events += hit.events
            if visible:
                correlation.feed_days.append(
                    FeedDay(
                        day=hit.day,
                        events=hit.events,
                        organization=organization.name if organization else _("unrouted"),
                        sector=organization.sector.name if organization else "",
                        value=hit.value,
                        via=via,
                    )
                )
            continue
        seen = context.observables.get(hit.observable_id or 0)
        incident = context.incidents.get(hit.incident_id or 0)
        if seen is None or incident is None:
            continue  # removed since the lookup
        tlp, internal = seen
        if TLP.RED in (tlp, incident.tlp) and not is_named_recipient(scope, incident):
            continue
        visible = incident.pk in context.visible and (context.staff or not internal)
        if not (context.staff or visible):
            continue
        incidents.add(incident.pk)
        for org in _orgs_of(incident):
            organizations.add(org.pk)
            sectors.add(org.sector_id)
        if visible and incident.pk not in shown:
            shown[incident.pk] = SeenIn(
                reference=incident.reference,
                title=incident.title,
                status=incident.get_status_display(),
                reported_at=incident.reported_at,
                kind=hit.kind,
                value=hit.value,
                via=via,
            )
    correlation.incidents = len(incidents)
    correlation.organizations = len(organizations)
    correlation.sectors = len(sectors)
    correlation.seen_in = sorted(shown.values(), key=lambda s: s.reported_at, reverse=True)
    correlation.hidden_incidents = len(incidents) - len(shown)
    correlation.feed_days.sort(key=lambda d: (d.day, d.organization), reverse=True)


def correlate(
    user: Any, indicators: list[Indicator], *, exclude_incident: int | None = None
) -> list[Correlation]:
    """For each indicator, what the reader may learn of where else it was seen (see the
    module's rules). A fixed number of queries whatever the number of indicators, plus
    one range scan per network."""
    if not indicators or not may_search(user):
        return [Correlation(indicator) for indicator in indicators]
    prefixes = index.stored_prefixes()
    plans: list[tuple[Indicator, list[Probe], RangeProbe | None]] = []
    for indicator in indicators:
        probes, range_probe = probes_for(indicator, prefixes)
        plans.append((indicator, probes, range_probe))
    keys = {p.hash for _i, probes, _r in plans for p in probes}
    own_keys = {key_of(indicator).hash for indicator in indicators}
    flags = index.flags_for(keys | own_keys)
    common = {k for k, flag in flags.items() if flag.common}
    hits = index.hits_for_keys(keys - common, exclude_incident=exclude_incident)
    by_key: dict[int, list[Hit]] = defaultdict(list)
    for hit in hits:
        by_key[hit.key].append(hit)
    range_hits: dict[int, list[Hit]] = {}
    limit = int(setting("CERTHUB_INTEL_RANGE_LIMIT"))
    for position, (_indicator, _probes, range_probe) in enumerate(plans):
        if range_probe is None:
            continue
        found = [
            h
            for h in index.hits_in_range(range_probe, limit=limit)
            if h.incident_id != exclude_incident
            and inside(range_probe.network, h.kind, h.value)
            and h.value != str(range_probe.network)
        ]
        range_hits[position] = found
        hits += found
    context = _load(user, hits)
    results: list[Correlation] = []
    for position, (indicator, probes, _range_probe) in enumerate(plans):
        correlation = Correlation(indicator)
        own = flags.get(key_of(indicator).hash)
        correlation.widespread = bool(own and own.widespread and context.staff)
        matched: list[tuple[Hit, str]] = []
        for probe in probes:
            if probe.hash in common:
                correlation.common = True
                continue
            matched += [(hit, probe.via) for hit in by_key.get(probe.hash, [])]
        matched += [(hit, Via.INSIDE) for hit in range_hits.get(position, [])]
        _tally(correlation, matched, context)
        if own is not None and own.common and context.staff:
            # Counted when it was flagged; it no longer links.
            correlation.incidents = max(correlation.incidents, own.incidents)
            correlation.organizations = max(correlation.organizations, own.organizations)
        if correlation.common and not context.staff:
            correlation.common = False  # organizations learn nothing beyond their own
        results.append(correlation)
    return results


def correlations_for_incident(
    user: Any, incident: Incident, observables: list[Observable]
) -> list[tuple[Observable, Correlation]]:
    """The incident's observables the reader may see (``observables_for``), each with
    where else it was seen."""
    indicators = [Indicator(o.kind, o.value) for o in observables]
    found = correlate(user, indicators, exclude_incident=incident.pk)
    return list(zip(observables, found, strict=True))


def search(user: Any, text: str) -> list[Correlation]:
    """The indicators in pasted text (defanged forms understood), each correlated."""
    indicators = extract(text or "", limit=MAX_SEARCH_VALUES)
    return correlate(user, indicators)


@dataclass(frozen=True)
class TimelineItem:
    when: dt.datetime | dt.date
    day: dt.date
    incident: SeenIn | None = None
    feed: FeedDay | None = None


def value_timeline(user: Any, kind: str, value: str) -> tuple[Correlation, list[TimelineItem]]:
    """One value's sightings the reader may see, newest first: the incidents holding it
    and the feed days that carried it. Invalid when the value does not parse."""
    if not may_search(user):
        raise Invalid(_("You cannot look indicators up."))
    correlation = correlate(user, [parse_key(kind, value)])[0]
    items = [
        TimelineItem(when=s.reported_at, day=s.reported_at.date(), incident=s)
        for s in correlation.seen_in
    ] + [TimelineItem(when=f.day, day=f.day, feed=f) for f in correlation.feed_days]
    items.sort(key=lambda item: item.day, reverse=True)
    return correlation, items
