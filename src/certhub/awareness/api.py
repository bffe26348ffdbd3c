"""The statistics API: incidents and feed events counted by sector, category, priority,
team, week (and for events: report type, classification type, organization), scoped
like the dashboards (``selectors.statistics_reach``): everything for the National CERT,
its subtree for another CERT, its own figures for an organization, aggregates only for
the Council. Counts come from the daily rollups."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from enum import StrEnum
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema

from certhub.accounts.selectors import current_user
from certhub.awareness import selectors
from certhub.incidents.catalog import categories
from certhub.tenancy.models import Organization, Sector, Team

router = Router(tags=["statistics"])

SLUG_FILTER = r"^[-a-zA-Z0-9_]*$"


class ErrorOut(Schema):
    detail: str


class IncidentGroup(StrEnum):
    SECTOR = "sector"
    CATEGORY = "category"
    PRIORITY = "priority"
    TEAM = "team"
    WEEK = "week"


class EventGroup(StrEnum):
    SECTOR = "sector"
    TEAM = "team"
    FEED = "feed"
    TYPE = "type"
    WEEK = "week"
    ORGANIZATION = "organization"


class CountOut(Schema):
    key: str
    label: str
    count: int


class StatisticsOut(Schema):
    subject: str
    group_by: str
    scope: str
    start: dt.date
    end: dt.date
    total: int
    items: list[CountOut]


RESPONSES = {200: StatisticsOut, 400: ErrorOut, 401: ErrorOut, 404: ErrorOut, 422: ErrorOut}


def _context(
    request: HttpRequest, start: dt.date | None, end: dt.date | None, sector: str, team: str
) -> selectors.Context:
    user = current_user(request)
    reach = selectors.statistics_reach(user)
    filters = selectors.Filters.parse(start=start, end=end, sector=sector, team=team)
    return selectors.context_for(user, reach, filters)


def _labelled(pairs: list[tuple[Any, int]], dimension: str) -> list[tuple[str, str, int]]:
    """(key, label, count) rows: slugs and names for sectors, teams and organizations,
    codes and names for categories and priorities; weeks as their Monday."""
    merged: dict[Any, int] = defaultdict(int)
    if dimension in ("week", "day"):
        for day, n in pairs:
            merged[day - dt.timedelta(days=day.weekday())] += int(n or 0)
        return [(d.isoformat(), d.isoformat(), n) for d, n in sorted(merged.items())]
    for key, n in pairs:
        merged[key] += int(n or 0)
    models: dict[str, Any] = {"sector": Sector, "team": Team, "organization": Organization}
    if dimension in models:
        found = {
            pk: (slug, name)
            for pk, slug, name in models[dimension]
            .objects.filter(pk__in=[k for k in merged if k is not None])
            .values_list("pk", "slug", "name")
        }
        rows = [(*found.get(key, ("", str(selectors.UNKNOWN))), n) for key, n in merged.items()]
    elif dimension == "category":
        names = categories()
        rows = [
            (key or "", names.get(key, key) or str(selectors.UNKNOWN), n)
            for key, n in merged.items()
        ]
    elif dimension == "priority":
        rows = [(str(key), selectors.priority_label(key), n) for key, n in merged.items()]
    else:
        rows = [(str(key or ""), str(key or selectors.UNKNOWN), n) for key, n in merged.items()]
    return sorted(rows, key=lambda r: (-r[2], r[1]))


def _answer(
    subject: str, group_by: str, ctx: selectors.Context, rows: list[tuple[str, str, int]]
) -> dict[str, Any]:
    return {
        "subject": subject,
        "group_by": group_by,
        "scope": ctx.reach.audience,
        "start": ctx.filters.start,
        "end": ctx.filters.end,
        "total": sum(r[2] for r in rows),
        "items": [{"key": k, "label": label, "count": n} for k, label, n in rows],
    }


@router.get(
    "/statistics/incidents",
    response=RESPONSES,
    summary="Incidents counted by sector, category, priority, team or week, within your scope",
)
def incident_statistics(
    request: HttpRequest,
    group_by: IncidentGroup = IncidentGroup.SECTOR,
    start: dt.date | None = None,
    end: dt.date | None = None,
    sector: str = Query("", pattern=SLUG_FILTER, max_length=100, description="sector slug"),
    team: str = Query("", pattern=SLUG_FILTER, max_length=100, description="a CERT (subtree)"),
) -> dict[str, Any]:
    """Incidents reported in the period, each counted once under its handling CERT.
    404 for a team outside your scope; 400 for an unknown sector or a bad range."""
    ctx = _context(request, start, end, sector, team)
    dimension = "day" if group_by == IncidentGroup.WEEK else str(group_by)
    rows = _labelled(selectors.incidents_by(ctx, dimension), dimension)
    return _answer("incidents", str(group_by), ctx, rows)


@router.get(
    "/statistics/events",
    response=RESPONSES,
    summary="Feed events counted by sector, team, report type, type, week or organization",
)
def event_statistics(
    request: HttpRequest,
    group_by: EventGroup = EventGroup.SECTOR,
    start: dt.date | None = None,
    end: dt.date | None = None,
    sector: str = Query("", pattern=SLUG_FILTER, max_length=100, description="sector slug"),
    team: str = Query("", pattern=SLUG_FILTER, max_length=100, description="a CERT (subtree)"),
) -> dict[str, Any]:
    """Feed events of the period. The Council gets no figures per organization (400)."""
    ctx = _context(request, start, end, sector, team)
    dimension = "day" if group_by == EventGroup.WEEK else str(group_by)
    if group_by == EventGroup.ORGANIZATION and ctx.reach.aggregates_only:
        from certhub.core.errors import Invalid

        raise Invalid(_("Aggregates only: no figures per organization for the Council."))
    rows = _labelled(selectors.events_by(ctx, dimension), dimension)
    return _answer("events", str(group_by), ctx, rows)
