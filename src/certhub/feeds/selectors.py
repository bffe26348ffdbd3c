"""Every read of feed data, scoped by the visibility rules (DESIGN.md section 3).

Events:
- a platform admin sees every event, routed or not;
- a team member sees the events routed to organizations whose responsible team is its
  team or below it;
- an organization member sees its own organizations' events;
- a Council member sees none (aggregates come from the statistics, not from events);
- anyone else sees none.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from certhub.core.errors import NotFound
from certhub.feeds.models import Event, FeedRule, IngestRun, RuleFiring
from certhub.tenancy.assets import normalise_cidr
from certhub.tenancy.visibility import TEAM_WRITE_ROLES, scope_for


def events_visible_to(user: Any) -> QuerySet[Event]:
    scope = scope_for(user)
    events = Event.objects.all()
    if scope.is_admin:
        return events
    if not scope.is_authenticated:
        return events.none()
    condition = scope.subtree_q("organization__responsible_team")
    if scope.org_ids:
        condition |= Q(organization_id__in=sorted(scope.org_ids))
    return events.filter(condition)


def get_event(user: Any, pk: int) -> Event:
    event = events_visible_to(user).filter(pk=pk).first()
    if event is None:
        raise NotFound(_("No such event."))
    return event


def events_in_network(user: Any, cidr: str) -> QuerySet[Event]:
    """Visible events whose source address lies in ``cidr`` (IPv4 or IPv6): one index
    range scan on the address key."""
    network = normalise_cidr(cidr)
    return events_visible_to(user).filter(
        source_ip_key__gte=network.range_start, source_ip_key__lte=network.range_end
    )


def can_ingest(user: Any) -> bool:
    """Who may upload report files: platform admins and CERT analysts and coordinators."""
    scope = scope_for(user)
    return scope.is_admin or any(seat.role in TEAM_WRITE_ROLES for seat in scope.teams)


def runs_visible_to(user: Any) -> QuerySet[IngestRun]:
    """Ingest runs are operations data: platform admins and analysts or coordinators of
    the national CERT (the root team) see every run; other CERT analysts and
    coordinators see the runs they started themselves (an upload's rejected rows may
    name addresses of other branches)."""
    scope = scope_for(user)
    if scope.is_admin:
        return IngestRun.objects.all()
    seats = [seat for seat in scope.teams if seat.role in TEAM_WRITE_ROLES]
    if not seats:
        return IngestRun.objects.none()
    if any(seat.path.count("/") == 2 for seat in seats):  # "/<id>/": the root team
        return IngestRun.objects.all()
    return IngestRun.objects.filter(actor=user.get_username())


def get_run(user: Any, pk: int) -> IngestRun:
    run = runs_visible_to(user).filter(pk=pk).first()
    if run is None:
        raise NotFound(_("No such ingest run."))
    return run


# --- Outputs: the browser's filters, digests and rules ---------------------------------


@dataclass(frozen=True)
class EventFilters:
    """The filters of the events browser and of ``GET /api/v1/events`` (all optional)."""

    organization: str = ""  # slug
    team: str = ""  # slug
    sector: str = ""  # slug
    feed: str = ""  # feed.name (the report type's feed)
    taxonomy: str = ""
    type: str = ""
    identifier: str = ""
    day: dt.date | None = None
    day_from: dt.date | None = None
    day_to: dt.date | None = None
    ip: str = ""  # an address or a CIDR network


def filter_events(user: Any, filters: EventFilters) -> QuerySet[Event]:
    """The events ``user`` may see that match ``filters`` (an address or network
    through the address key: one range scan)."""
    events = events_in_network(user, filters.ip) if filters.ip else events_visible_to(user)
    lookups: dict[str, Any] = {
        "organization__slug": filters.organization,
        "team__slug": filters.team,
        "sector__slug": filters.sector,
        "feed_name": filters.feed,
        "classification_taxonomy": filters.taxonomy,
        "classification_type": filters.type,
        "classification_identifier": filters.identifier,
        "day": filters.day,
        "day__gte": filters.day_from,
        "day__lte": filters.day_to,
    }
    return events.filter(**{k: v for k, v in lookups.items() if v not in ("", None)})


def events_of_day(day: dt.date) -> QuerySet[Event]:
    """Every event of one day, routed or not, for the platform's own daily work (digests
    and rules): no user, no visibility scope. Never hand this to a view."""
    return Event.objects.filter(day=day)


def enabled_rules() -> QuerySet[FeedRule]:
    return FeedRule.objects.filter(enabled=True)


def rule_fired(rule: FeedRule, organization_id: int, day: dt.date) -> bool:
    return RuleFiring.objects.filter(rule=rule, organization_id=organization_id, day=day).exists()


def events_of_run(run: IngestRun, days: list[dt.date] | None = None) -> QuerySet[Event]:
    """The events a done run stored (unscoped: for the services above feeds that index
    or count them, never for showing). ``days`` (from the events_loaded signal) lets the
    (day, identity) index narrow the scan to the file's days."""
    events = Event.objects.filter(file_id=run.file_id)
    if days:
        events = events.filter(day__in=days)
    return events
