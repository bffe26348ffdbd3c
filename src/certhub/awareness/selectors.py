"""Every read of the awareness app: the dashboards' tables, scoped by visibility
(DESIGN.md section 3).

A dashboard is for one audience, and who may open it is decided here, once
(``reach_for``):
- ``national``: the whole country. Platform admins and members of the National CERT
  (the root team).
- ``team``: one CERT and the teams below it. Members of that team or of a team above
  it, and admins.
- ``organization``: one constituent. Its members, the CERTs over its responsible team,
  and admins.
- ``council``: aggregates only (counts per sector, category, priority, week, CERT and
  feed; never an incident, never a row naming an organization). Council members, the
  National CERT and admins.
Anyone else gets NotFound (404).

Every figure is a ``Table`` (title, unit, columns, rows). The page shows it, the plot
draws it, the "data" link gives it as CSV, the XLSX export and the report print it: one
source, so the numbers always agree. Counts come from the rollups (see services.py):
whole weeks of a range from the weekly ones, the days around them from the daily ones
(``span_of``); the few live figures (overdue deadlines, advisory acknowledgements, an
organization's own incidents) read small, indexed sets.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from django.core.cache import cache
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from certhub.advisories.models import Acknowledgement, Advisory, AdvisoryDelivery
from certhub.advisories.selectors import advisories_visible_to, inbox_for
from certhub.awareness.models import (
    EventRollup,
    EventWeekRollup,
    IncidentCategoryWeekRollup,
    IncidentRollup,
    IncidentWeekRollup,
    NationalReport,
    OrgEventRollup,
    OrgEventWeekRollup,
    RollupState,
)
from certhub.core.errors import Invalid, NotFound
from certhub.incidents.catalog import categories
from certhub.incidents.choices import Priority, Status
from certhub.incidents.models import Incident
from certhub.incidents.selectors import incidents_visible_to, with_full_content
from certhub.tenancy.models import Organization, Sector, Team
from certhub.tenancy.selectors import team_subtree
from certhub.tenancy.tlp import Audience, SharePath, labels_shareable
from certhub.tenancy.visibility import Scope, scope_for

NATIONAL = "national"
TEAM = "team"
ORGANIZATION = "organization"
COUNCIL = "council"
AUDIENCES = (NATIONAL, TEAM, ORGANIZATION, COUNCIL)

DEFAULT_DAYS = 84  # twelve weeks
MAX_DAYS = 3 * 366  # a dashboard or an API answer spans at most three years
TOP_ORGANIZATIONS = 10
UNKNOWN = gettext_lazy("(unknown)")


# --- Who reaches what -------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    """The dashboard filters: a date range (UTC days, both included), and optionally a
    sector and a CERT (its subtree) by slug."""

    start: dt.date
    end: dt.date
    sector: str = ""
    team: str = ""

    @classmethod
    def parse(
        cls,
        *,
        start: str | dt.date | None = None,
        end: str | dt.date | None = None,
        sector: str | None = "",
        team: str | None = "",
        today: dt.date | None = None,
    ) -> Filters:
        """Filters from user input; Invalid (400) with a message for bad dates."""
        today = today or timezone.now().date()

        def day(value: str | dt.date | None, default: dt.date, name: str) -> dt.date:
            if value in (None, ""):
                return default
            if isinstance(value, dt.date):
                return value
            try:
                return dt.date.fromisoformat(str(value).strip())
            except ValueError:
                raise Invalid(
                    _("%(name)s must be a date as YYYY-MM-DD.") % {"name": name}
                ) from None

        end_day = day(end, today, "end")
        start_day = day(start, end_day - dt.timedelta(days=DEFAULT_DAYS - 1), "start")
        if start_day > end_day:
            raise Invalid(_("The start date is after the end date."))
        if (end_day - start_day).days >= MAX_DAYS:
            raise Invalid(_("A date range spans at most three years."))
        return cls(
            start=start_day,
            end=end_day,
            sector=(sector or "").strip()[:100],
            team=(team or "").strip()[:100],
        )

    def query(self) -> dict[str, str]:
        values = {"start": self.start.isoformat(), "end": self.end.isoformat()}
        if self.sector:
            values["sector"] = self.sector
        if self.team:
            values["team"] = self.team
        return values


@dataclass(frozen=True)
class Reach:
    """What one dashboard covers for one user."""

    audience: str
    key: str  # the team's or organization's slug ("" for national and council)
    title: str
    # Teams whose figures count (a subtree); None: every CERT.
    team_ids: frozenset[int] | None = None
    # For an organization audience: its organizations' ids.
    organization_ids: frozenset[int] | None = None
    # Events not routed to any organization: only a platform admin sees them.
    include_unrouted: bool = False

    @property
    def aggregates_only(self) -> bool:
        return self.audience == COUNCIL


def is_national_staff(scope: Scope) -> bool:
    """A member of the National CERT (the root of the tier tree: depth 0, path "/<id>/")."""
    return any(seat.path.count("/") == 2 for seat in scope.teams)


def may_read_aggregates(user: Any) -> bool:
    scope = scope_for(user)
    return scope.is_admin or scope.is_council or is_national_staff(scope)


def _subtree_ids(team: Team) -> frozenset[int]:
    return frozenset(team_subtree(team).values_list("pk", flat=True))


def reach_for(user: Any, audience: str, key: str = "") -> Reach:
    """The dashboard ``audience`` (``key``: a team or organization slug) as ``user`` may
    see it; NotFound for anyone else."""
    scope = scope_for(user)
    if audience == NATIONAL and not key:
        if scope.is_admin or is_national_staff(scope):
            return Reach(NATIONAL, "", _("National situation"), include_unrouted=scope.is_admin)
    elif audience == COUNCIL and not key:
        if may_read_aggregates(user):
            return Reach(COUNCIL, "", _("National aggregates for the CERT Council"))
    elif audience == TEAM and key:
        team = Team.objects.filter(slug=str(key)[:100]).first()
        if team is not None and (scope.is_admin or scope.covers_team_path(team.path)):
            return Reach(TEAM, team.slug, team.name, team_ids=_subtree_ids(team))
    elif audience == ORGANIZATION and key:
        org = (
            Organization.objects.select_related("responsible_team")
            .filter(slug=str(key)[:100])
            .first()
        )
        if org is not None and (
            scope.is_admin
            or org.pk in scope.org_ids
            or scope.covers_team_path(org.responsible_team.path)
        ):
            return Reach(ORGANIZATION, org.slug, org.name, organization_ids=frozenset({org.pk}))
    raise NotFound(_("No such dashboard."))


def default_reach(user: Any) -> Reach:
    """The broadest dashboard the user may open: national, else its (first) team, else
    its (first) organization, else the Council's aggregates; NotFound when none."""
    scope = scope_for(user)
    if scope.is_admin or is_national_staff(scope):
        return reach_for(user, NATIONAL)
    if scope.teams:
        seat = sorted(scope.teams, key=lambda s: (len(s.path), s.path))[0]
        return reach_for(user, TEAM, Team.objects.get(pk=seat.team_id).slug)
    if scope.org_ids:
        org = Organization.objects.filter(pk__in=sorted(scope.org_ids)).order_by("name").first()
        if org is not None:
            return reach_for(user, ORGANIZATION, org.slug)
    if scope.is_council:
        return reach_for(user, COUNCIL)
    raise NotFound(_("No dashboard."))


def statistics_reach(user: Any) -> Reach:
    """What the statistics API counts for ``user``: everything for admins and the
    National CERT, the subtrees of its CERTs for other CERT staff, the Council's
    aggregates for a Council member, its organizations' own incidents and events for an
    organization member; NotFound for anyone else."""
    scope = scope_for(user)
    if scope.is_admin or is_national_staff(scope):
        return reach_for(user, NATIONAL)
    if scope.teams:
        # Every team at or below the user's seats: one query (tenancy's subtree rule).
        below = Q(pk__in=[])
        for seat in scope.teams:
            below |= Q(path__startswith=seat.path)
        ids = Team.objects.filter(below).values_list("pk", flat=True)
        return Reach(TEAM, "", _("Your CERTs"), team_ids=frozenset(ids))
    if scope.is_council:
        return reach_for(user, COUNCIL)
    if scope.org_ids:
        return Reach(ORGANIZATION, "", _("Your organizations"), organization_ids=scope.org_ids)
    raise NotFound(_("No statistics."))


def narrow(user: Any, reach: Reach, filters: Filters) -> tuple[frozenset[int] | None, int | None]:
    """The team ids and sector id the filters leave (a team filter must lie inside the
    reach; a foreign one is NotFound, an unknown sector Invalid)."""
    team_ids = reach.team_ids
    if filters.team:
        team = Team.objects.filter(slug=filters.team).first()
        if team is None or (team_ids is not None and team.pk not in team_ids):
            raise NotFound(_("No such team."))
        subtree = _subtree_ids(team)
        team_ids = subtree if team_ids is None else team_ids & subtree
    sector_id = None
    if filters.sector:
        sector_id = Sector.objects.filter(slug=filters.sector).values_list("pk", flat=True).first()
        if sector_id is None:
            raise Invalid(_("No sector has this slug."))
    return team_ids, sector_id


def rollup_version() -> str:
    """The version of the rollups, for caching what is drawn from them."""
    versions = dict(RollupState.objects.values_list("kind", "version"))
    return f"{versions.get('events', 0)}.{versions.get('incidents', 0)}"


def rollups_refreshed_at() -> dt.datetime | None:
    states = RollupState.objects.order_by("refreshed_at")
    return states.values_list("refreshed_at", flat=True).first()


# --- Tables -----------------------------------------------------------------------------


@dataclass
class Table:
    """One figure of a dashboard: its numbers and how to draw them. ``chart`` is
    ``bar`` (first column: labels, second: values), ``stacked`` or ``lines`` (first
    column: the week or day, the others one series each), or ``""`` (a table only)."""

    name: str
    title: str
    unit: str
    columns: list[str]
    rows: list[list[Any]] = field(default_factory=list)
    chart: str = "bar"
    note: str = ""

    @property
    def total(self) -> int:
        return sum(int(value) for row in self.rows for value in row[1:] if isinstance(value, int))


@dataclass(frozen=True)
class Context:
    """What every table function gets: the user, the reach, the filters, and the
    narrowed team ids and sector id."""

    user: Any
    reach: Reach
    filters: Filters
    team_ids: frozenset[int] | None
    sector_id: int | None
    # What several tables of one page share (an organization's visible incident ids),
    # computed once per page.
    memo: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


def _week(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def _weeks(filters: Filters) -> list[dt.date]:
    weeks, week = [], _week(filters.start)
    while week <= filters.end:
        weeks.append(week)
        week += dt.timedelta(days=7)
    return weeks


def _days(filters: Filters) -> list[dt.date]:
    return [
        filters.start + dt.timedelta(days=i) for i in range((filters.end - filters.start).days + 1)
    ]


def _incident_scope(rows: QuerySet[Any], ctx: Context) -> QuerySet[Any]:
    """Incident rollup rows (daily or weekly) of the context's teams and sector."""
    if ctx.team_ids is not None:
        rows = rows.filter(team_id__in=sorted(ctx.team_ids))
    if ctx.sector_id is not None:
        rows = rows.filter(sector_id=ctx.sector_id)
    return rows.order_by()


def _event_scope(rows: QuerySet[Any], ctx: Context) -> QuerySet[Any]:
    """Event rollup rows (daily or weekly) of the context's teams and sector; unrouted
    events for platform admins only."""
    if ctx.team_ids is not None:
        rows = rows.filter(team_id__in=sorted(ctx.team_ids))
    elif not ctx.reach.include_unrouted:
        rows = rows.filter(team_id__isnull=False)
    if ctx.sector_id is not None:
        rows = rows.filter(sector_id=ctx.sector_id)
    return rows.order_by()


def _org_event_scope(rows: QuerySet[Any], ctx: Context) -> QuerySet[Any]:
    """Organization event rollup rows (daily or weekly) of the context's organizations
    (an organization audience), teams and sector."""
    if ctx.reach.audience == ORGANIZATION:
        rows = rows.filter(organization_id__in=sorted(ctx.reach.organization_ids or ()))
    if ctx.team_ids is not None:
        rows = rows.filter(team_id__in=sorted(ctx.team_ids))
    if ctx.sector_id is not None:
        rows = rows.filter(sector_id=ctx.sector_id)
    return rows.order_by()


def _incident_rollups(ctx: Context) -> QuerySet[IncidentRollup]:
    rows = IncidentRollup.objects.filter(day__gte=ctx.filters.start, day__lte=ctx.filters.end)
    return _incident_scope(rows, ctx)


def _event_rollups(ctx: Context) -> QuerySet[EventRollup]:
    rows = EventRollup.objects.filter(day__gte=ctx.filters.start, day__lte=ctx.filters.end)
    return _event_scope(rows, ctx)


def _org_event_rollups(ctx: Context) -> QuerySet[OrgEventRollup]:
    rows = OrgEventRollup.objects.filter(day__gte=ctx.filters.start, day__lte=ctx.filters.end)
    return _org_event_scope(rows, ctx)


@dataclass(frozen=True)
class Span:
    """A date range as the rollups read it: the whole weeks inside it (Mondays
    ``weeks[0]`` to ``weeks[1]``) from the weekly rollups, the days before and after
    them (``days``: ranges, both ends included) from the daily ones."""

    weeks: tuple[dt.date, dt.date] | None
    days: tuple[tuple[dt.date, dt.date], ...]


def span_of(filters: Filters) -> Span:
    start, end = filters.start, filters.end
    first = start + dt.timedelta(days=-start.weekday() % 7)  # the first Monday from start
    last = _week(end + dt.timedelta(days=1)) - dt.timedelta(days=7)  # last week ending by end
    if first > last:
        return Span(None, ((start, end),))
    days = []
    if start < first:
        days.append((start, first - dt.timedelta(days=1)))
    if last + dt.timedelta(days=7) <= end:
        days.append((last + dt.timedelta(days=7), end))
    return Span((first, last), tuple(days))


def _summed(
    ctx: Context,
    daily: type[Any],
    weekly: type[Any],
    scope: Callable[[QuerySet[Any], Context], QuerySet[Any]],
    keys: list[str],
    sums: tuple[str, ...],
) -> list[tuple[Any, ...]]:
    """Rows of ``keys`` then the ``sums`` over the context's range: whole weeks from
    the ``weekly`` rollup, the days around them from the ``daily`` one, added up (the
    same numbers as the daily rows alone). A "day" key is a week's Monday for the rows
    of whole weeks: for figures drawn per week."""
    span = span_of(ctx.filters)
    parts: list[tuple[QuerySet[Any], list[str]]] = []
    if span.days:
        in_days = Q(day__range=span.days[0])
        for days in span.days[1:]:
            in_days |= Q(day__range=days)
        parts.append((scope(daily.objects.filter(in_days), ctx), keys))
    if span.weeks:
        parts.append(
            (
                scope(weekly.objects.filter(week__range=span.weeks), ctx),
                ["week" if key == "day" else key for key in keys],
            )
        )
    totals: dict[tuple[Any, ...], list[int]] = {}
    width = len(keys)
    for rows, fields in parts:
        for row in rows.values_list(*fields).annotate(*(Sum(name) for name in sums)):
            counts = totals.setdefault(row[:width], [0] * len(sums))
            for i, value in enumerate(row[width:]):
                counts[i] += int(value or 0)
    return [(*key, *counts) for key, counts in totals.items()]


def _incident_sums(
    ctx: Context, keys: list[str], sums: tuple[str, ...] = ("incidents",)
) -> list[tuple[Any, ...]]:
    weekly = IncidentCategoryWeekRollup if "category" in keys else IncidentWeekRollup
    return _summed(ctx, IncidentRollup, weekly, _incident_scope, keys, sums)


def _event_sums(ctx: Context, keys: list[str]) -> list[tuple[Any, ...]]:
    return _summed(ctx, EventRollup, EventWeekRollup, _event_scope, keys, ("events",))


def _org_event_sums(ctx: Context, keys: list[str], sums: tuple[str, ...]) -> list[tuple[Any, ...]]:
    return _summed(ctx, OrgEventRollup, OrgEventWeekRollup, _org_event_scope, keys, sums)


def _names(model: Any, ids: Iterable[Any]) -> dict[Any, str]:
    wanted = sorted({i for i in ids if i is not None})
    names: dict[Any, str] = {None: str(UNKNOWN)}
    names.update(model.objects.filter(pk__in=wanted).values_list("pk", "name"))
    return names


def priority_label(value: int) -> str:
    try:
        return str(Priority(value).label)
    except ValueError:
        return str(value)


def _by_label(pairs: dict[str, int]) -> list[list[Any]]:
    return [[label, count] for label, count in sorted(pairs.items(), key=lambda p: (-p[1], p[0]))]


def _own_incidents(ctx: Context) -> QuerySet[Incident]:
    """An organization audience's incidents: live, through the incidents' own
    visibility (few rows), reported in the date range."""
    start = dt.datetime.combine(ctx.filters.start, dt.time.min, tzinfo=dt.UTC)
    end = dt.datetime.combine(ctx.filters.end + dt.timedelta(days=1), dt.time.min, tzinfo=dt.UTC)
    incidents = incidents_visible_to(ctx.user).filter(reported_at__gte=start, reported_at__lt=end)
    if ctx.reach.audience == ORGANIZATION:
        if "own_incident_ids" not in ctx.memo:
            # The organization's incidents by its own indexes first (reported by it, or
            # affecting it), then through the visibility rule: an OR of EXISTS over the
            # visibility filter would make the database walk every incident. Once per
            # page: the tables after the first read the ids.
            orgs = sorted(ctx.reach.organization_ids or ())
            ids = set(
                Incident.objects.filter(
                    reporting_org_id__in=orgs, reported_at__gte=start, reported_at__lt=end
                ).values_list("pk", flat=True)
            )
            ids.update(
                Incident.affected_orgs.through.objects.filter(
                    organization_id__in=orgs,
                    incident__reported_at__gte=start,
                    incident__reported_at__lt=end,
                ).values_list("incident_id", flat=True)
            )
            ctx.memo["own_incident_ids"] = sorted(
                incidents.filter(pk__in=sorted(ids)).values_list("pk", flat=True)
            )
        # Already checked against the visibility rule above.
        return Incident.objects.filter(pk__in=ctx.memo["own_incident_ids"])
    return incidents


def incidents_by(ctx: Context, dimension: str) -> list[tuple[Any, int]]:
    """(key, incidents) pairs grouped by ``dimension`` (sector, category, priority, team,
    day): from the rollups, or live for an organization audience."""
    if ctx.reach.audience == ORGANIZATION:
        incidents = _own_incidents(ctx)
        if dimension == "day":
            counts: dict[Any, int] = defaultdict(int)
            for reported_at in incidents.values_list("reported_at", flat=True):
                counts[reported_at.astimezone(dt.UTC).date()] += 1
            return list(counts.items())
        field_name = {
            "sector": "reporting_org__sector_id",
            "category": "category",
            "priority": "priority",
            "team": "handling_team_id",
        }[dimension]
        return list(
            incidents.order_by().values_list(field_name).annotate(n=Count("id", distinct=True))
        )
    field_name = {"sector": "sector_id", "team": "team_id"}.get(dimension, dimension)
    if dimension == "day":
        return list(_incident_rollups(ctx).values_list(field_name).annotate(n=Sum("incidents")))
    return [(key, n) for key, n in _incident_sums(ctx, [field_name])]


EVENT_DIMENSIONS = {
    "sector": "sector_id",
    "team": "team_id",
    "feed": "feed_name",
    "day": "day",
    "organization": "organization_id",
    "type": "classification_type",
}


def events_by(ctx: Context, dimension: str) -> list[tuple[Any, int]]:
    """(key, events) pairs grouped by ``dimension`` (sector, team, feed, type, day,
    organization). Per organization (and for an organization audience) from the
    organization rollup; never per organization for the Council."""
    field_name = EVENT_DIMENSIONS[dimension]
    if dimension == "organization" and ctx.reach.aggregates_only:
        raise Invalid(_("Aggregates only: no figures per organization for the Council."))
    if dimension == "organization" or ctx.reach.audience == ORGANIZATION:
        if dimension == "type":
            raise Invalid(_("Figures per classification type are not kept per organization."))
        if dimension == "organization" and ctx.reach.audience != ORGANIZATION:
            return [(key, n) for key, n in _org_event_sums(ctx, [field_name], ("events",))]
        return list(_org_event_rollups(ctx).values_list(field_name).annotate(n=Sum("events")))
    if dimension == "day":
        return list(_event_rollups(ctx).values_list(field_name).annotate(n=Sum("events")))
    return [(key, n) for key, n in _event_sums(ctx, [field_name])]


def _incidents_sector(ctx: Context) -> Table:
    pairs = incidents_by(ctx, "sector")
    names = _names(Sector, (k for k, _n in pairs))
    return Table(
        "incidents_sector",
        _("Incidents by sector"),
        _("incidents"),
        [_("Sector"), _("Incidents")],
        _by_label({names.get(k, names[None]): n for k, n in pairs}),
    )


def _incidents_category(ctx: Context) -> Table:
    labels = categories()
    merged: dict[str, int] = defaultdict(int)
    unknown = str(UNKNOWN)
    for key, n in incidents_by(ctx, "category"):
        merged[labels.get(key, key) if key else unknown] += n
    return Table(
        "incidents_category",
        _("Incidents by category (RSIT)"),
        _("incidents"),
        [_("Category"), _("Incidents")],
        _by_label(merged),
    )


def _incidents_priority(ctx: Context) -> Table:
    counts = dict(incidents_by(ctx, "priority"))
    return Table(
        "incidents_priority",
        _("Incidents by priority"),
        _("incidents"),
        [_("Priority"), _("Incidents")],
        [[priority_label(p), int(counts.get(p, 0))] for p in Priority.values],
    )


def _incidents_week(ctx: Context) -> Table:
    if ctx.reach.audience == ORGANIZATION:
        per_day = [(day, None, n) for day, n in incidents_by(ctx, "day")]
    else:
        per_day = _incident_sums(ctx, ["day", "priority"])
    grid: dict[dt.date, dict[int | None, int]] = {w: defaultdict(int) for w in _weeks(ctx.filters)}
    for day, priority, n in per_day:
        grid.setdefault(_week(day), defaultdict(int))[priority] += n
    if ctx.reach.audience == ORGANIZATION:
        return Table(
            "incidents_week",
            _("Incidents per week"),
            _("incidents per week"),
            [_("Week starting"), _("Incidents")],
            [[w.isoformat(), int(grid[w].get(None, 0))] for w in sorted(grid)],
            chart="stacked",
        )
    return Table(
        "incidents_week",
        _("Incidents per week, by priority"),
        _("incidents per week"),
        [_("Week starting")] + [priority_label(p) for p in Priority.values],
        [[w.isoformat()] + [int(grid[w].get(p, 0)) for p in Priority.values] for w in sorted(grid)],
        chart="stacked",
    )


def _team_health(ctx: Context) -> Table:
    per_team = {
        team_id: (incidents, open_, decided, met, late)
        for team_id, incidents, open_, decided, met, late in _incident_sums(
            ctx, ["team_id"], ("incidents", "open", "sla_decided", "sla_met", "overdue")
        )
    }
    names = _names(Team, per_team)
    rows = []
    for team_id in sorted(per_team, key=lambda t: names.get(t, "")):
        incidents, open_, decided, met, late = per_team[team_id]
        rate = round(100 * met / decided) if decided else None
        rows.append(
            [
                names.get(team_id, names[None]),
                incidents,
                open_,
                late,
                decided,
                met,
                rate,
            ]
        )
    return Table(
        "team_health",
        _("Open, overdue and SLA compliance per CERT"),
        _("% of response SLA deadlines met in time"),
        [
            _("CERT"),
            _("Incidents"),
            _("Open"),
            _("Overdue"),
            _("SLA deadlines due"),
            _("Met in time"),
            _("SLA compliance (%)"),
        ],
        rows,
        chart="bar",
        note=_(
            "Overdue: incidents reported in the period with a deadline past due at the "
            "last refresh of the counts."
        ),
    )


def _events_week(ctx: Context, dimension: str) -> tuple[list[str], dict[dt.date, dict[str, int]]]:
    rows = _event_sums(ctx, ["day", dimension])
    unknown = str(UNKNOWN)
    labels: dict[Any, str]
    if dimension == "sector_id":
        labels = _names(Sector, {r[1] for r in rows})
    else:
        labels = {key: key or unknown for key in {r[1] for r in rows}}
    grid: dict[dt.date, dict[str, int]] = {w: defaultdict(int) for w in _weeks(ctx.filters)}
    totals: dict[str, int] = defaultdict(int)
    weeks: dict[dt.date, dt.date] = {}
    for day, key, n in rows:
        label = labels.get(key, unknown)
        week = weeks.get(day)
        if week is None:
            week = weeks[day] = _week(day)
        grid.setdefault(week, defaultdict(int))[label] += n
        totals[label] += n
    series = sorted(totals, key=lambda s: (-totals[s], s))
    return series, grid


def _events_sector_week(ctx: Context) -> Table:
    series, grid = _events_week(ctx, "sector_id")
    return Table(
        "events_sector_week",
        _("Feed events per week, by sector"),
        _("events per week"),
        [_("Week starting"), *series],
        [[w.isoformat()] + [grid[w].get(s, 0) for s in series] for w in sorted(grid)],
        chart="lines",
    )


def _events_feed_week(ctx: Context) -> Table:
    series, grid = _events_week(ctx, "feed_name")
    return Table(
        "events_feed_week",
        _("Feed events per week, by report type"),
        _("events per week"),
        [_("Week starting"), *series],
        [[w.isoformat()] + [grid[w].get(s, 0) for s in series] for w in sorted(grid)],
        chart="lines",
    )


def _top_organizations(ctx: Context) -> Table:
    rows = sorted(
        _org_event_sums(ctx, ["organization_id"], ("events", "hosts")),
        key=lambda row: (-row[1], row[0]),
    )[:TOP_ORGANIZATIONS]
    orgs = {
        o.pk: o
        for o in Organization.objects.select_related("sector").filter(pk__in=[r[0] for r in rows])
    }
    return Table(
        "top_organizations",
        _("Most affected organizations (feed events)"),
        _("events"),
        [_("Organization"), _("Events"), _("Host-days"), _("Sector")],
        [[orgs[o].name, events, hosts, orgs[o].sector.name] for o, events, hosts in rows],
        chart="bar",
        note=_("Host-days: distinct hosts reported each day, added up over the days."),
    )


def _acknowledgement_rates(ctx: Context) -> Table:
    start = dt.datetime.combine(ctx.filters.start, dt.time.min, tzinfo=dt.UTC)
    end = dt.datetime.combine(ctx.filters.end + dt.timedelta(days=1), dt.time.min, tzinfo=dt.UTC)
    # A report generated without a user (command line, task) is passed on inside the
    # national CERT's community: the advisories the one TLP check lets go that far.
    readable = (
        advisories_visible_to(ctx.user)
        if ctx.user is not None
        else Advisory.objects.filter(
            tlp__in=labels_shareable(path=SharePath.CSV, audience=Audience.PASSED_ON)
        )
    )
    deliveries = AdvisoryDelivery.objects.filter(
        delivered_at__gte=start, delivered_at__lt=end, advisory__in=readable.values("pk")
    )
    if ctx.team_ids is not None:
        deliveries = deliveries.filter(advisory__team_id__in=sorted(ctx.team_ids))
    if ctx.sector_id is not None:
        deliveries = deliveries.filter(organization__sector_id=ctx.sector_id)
    acknowledged = Exists(
        Acknowledgement.objects.filter(
            advisory_id=OuterRef("advisory_id"), organization_id=OuterRef("organization_id")
        )
    )
    if ctx.reach.aggregates_only:
        key = "advisory__severity"
        columns = [_("Severity"), _("Delivered"), _("Acknowledged"), _("Rate (%)")]
    else:
        key = "advisory__tracking_id"
        columns = [_("Advisory"), _("Delivered"), _("Acknowledged"), _("Rate (%)"), _("Title")]
    # One grouped read: deliveries and those acknowledged, per label (and, per advisory,
    # its title: one title per tracking id, so grouping by it too changes no count).
    keys = [key] if ctx.reach.aggregates_only else [key, "advisory__title"]
    totals: dict[Any, int] = {}
    acked: dict[Any, int] = {}
    titles: dict[str, str] = {}
    for label, *title, n, n_acked in (
        deliveries.order_by()
        .values_list(*keys)
        .annotate(n=Count("id"), n_acked=Count("id", filter=Q(acknowledged)))
    ):
        totals[label] = totals.get(label, 0) + n
        acked[label] = acked.get(label, 0) + n_acked
        if title:
            titles[label] = title[0]
    rows = []
    for label in sorted(totals, key=lambda k: (-totals[k], str(k))):
        rate = round(100 * acked.get(label, 0) / totals[label])
        row = [str(label or UNKNOWN), totals[label], acked.get(label, 0), rate]
        if not ctx.reach.aggregates_only:
            row.append(titles.get(label, ""))
        rows.append(row)
    return Table(
        "acknowledgements",
        _("Advisories: acknowledgement rates"),
        _("% of deliveries acknowledged"),
        columns,
        rows,
        chart="bar",
    )


def _organization_hosts(ctx: Context) -> Table:
    rows = list(_org_event_rollups(ctx).values_list("day", "feed_name").annotate(n=Sum("hosts")))
    totals: dict[str, int] = defaultdict(int)
    grid: dict[dt.date, dict[str, int]] = {d: defaultdict(int) for d in _days(ctx.filters)}
    for day, feed, n in rows:
        grid.setdefault(day, defaultdict(int))[feed] += n
        totals[feed] += n
    series = sorted(totals, key=lambda s: (-totals[s], s))
    return Table(
        "organization_hosts",
        _("Our hosts in the feeds, per day and report type"),
        _("distinct hosts per day"),
        [_("Day"), *series],
        [[d.isoformat()] + [grid[d].get(s, 0) for s in series] for d in sorted(grid)],
        chart="lines",
    )


def _organization_incidents(ctx: Context) -> Table:
    labels = categories()
    statuses = {value: str(label) for value, label in Status.choices}
    incidents = list(
        _own_incidents(ctx)
        .order_by("-reported_at")
        .values_list("pk", "reference", "title", "status", "priority", "category", "reported_at")[
            :200
        ]
    )
    # A TLP:RED incident's title only for its named recipients (one query for the page).
    readable = set(
        with_full_content(ctx.user, Incident.objects.filter(pk__in=[i[0] for i in incidents]))
        .order_by()
        .values_list("pk", flat=True)
    )
    return Table(
        "organization_incidents",
        _("Our incidents"),
        _("incidents"),
        [_("Reference"), _("Title"), _("Status"), _("Priority"), _("Category"), _("Reported")],
        [
            [
                reference,
                title if pk in readable else "",
                statuses.get(status, status),
                priority_label(priority),
                labels.get(category, category),
                reported_at.astimezone(dt.UTC).date().isoformat(),
            ]
            for pk, reference, title, status, priority, category, reported_at in incidents
        ],
        chart="",
    )


def _organization_advisories(ctx: Context) -> Table:
    acknowledged = Exists(
        Acknowledgement.objects.filter(
            advisory_id=OuterRef("advisory_id"), organization_id=OuterRef("organization_id")
        )
    )
    deliveries = (
        inbox_for(ctx.user)
        .filter(organization_id__in=sorted(ctx.reach.organization_ids or ()))
        .exclude(acknowledged)
    )
    return Table(
        "open_advisories",
        _("Advisories to acknowledge"),
        _("advisories"),
        [_("Advisory"), _("Title"), _("Severity"), _("Delivered")],
        [
            [
                d.advisory.tracking_id,
                d.advisory.title,
                str(d.advisory.get_severity_display()),
                d.delivered_at.astimezone(dt.UTC).date().isoformat(),
            ]
            for d in deliveries[:200]
        ],
        chart="",
    )


TableFunction = Callable[[Context], Table]

# Which tables each audience gets, in the order of the page. The Council's list has no
# table naming an organization or an advisory: aggregates only.
TABLES: dict[str, tuple[tuple[str, TableFunction], ...]] = {
    NATIONAL: (
        ("incidents_week", _incidents_week),
        ("incidents_sector", _incidents_sector),
        ("incidents_category", _incidents_category),
        ("incidents_priority", _incidents_priority),
        ("team_health", _team_health),
        ("events_sector_week", _events_sector_week),
        ("events_feed_week", _events_feed_week),
        ("top_organizations", _top_organizations),
        ("acknowledgements", _acknowledgement_rates),
    ),
    COUNCIL: (
        ("incidents_week", _incidents_week),
        ("incidents_sector", _incidents_sector),
        ("incidents_category", _incidents_category),
        ("incidents_priority", _incidents_priority),
        ("team_health", _team_health),
        ("events_sector_week", _events_sector_week),
        ("events_feed_week", _events_feed_week),
        ("acknowledgements", _acknowledgement_rates),
    ),
    ORGANIZATION: (
        ("organization_hosts", _organization_hosts),
        ("incidents_week", _incidents_week),
        ("organization_incidents", _organization_incidents),
        ("open_advisories", _organization_advisories),
    ),
}
TABLES[TEAM] = TABLES[NATIONAL]


def table_names(audience: str) -> list[str]:
    return [name for name, _function in TABLES.get(audience, ())]


def context_for(user: Any, reach: Reach, filters: Filters) -> Context:
    team_ids, sector_id = narrow(user, reach, filters)
    return Context(user, reach, filters, team_ids, sector_id)


# The national, team and Council tables are kept in the cache under the rollups' version
# (and the user, whose advisories differ), so the page and its plots count once. An
# organization's tables are live (its own incidents and advisories: few rows, and an
# acknowledgement must show at once).
TABLE_CACHE_SECONDS = 300


def _cache_key(user: Any, reach: Reach, filters: Filters, name: str, version: str) -> str:
    parts = [
        reach.audience,
        reach.key,
        name,
        repr(sorted(filters.query().items())),
        version,
        get_language() or "",
        str(getattr(user, "pk", None)),
    ]
    return "awareness:table:" + hashlib.sha256("|".join(parts).encode()).hexdigest()


def _cached(
    user: Any,
    reach: Reach,
    filters: Filters,
    name: str,
    make: Callable[[], Table],
    version: str | None = None,
) -> Table:
    if reach.audience == ORGANIZATION:
        return make()
    key = _cache_key(user, reach, filters, name, version or rollup_version())
    table = cache.get(key)
    if table is None:
        table = make()
        cache.set(key, table, TABLE_CACHE_SECONDS)
    return table


def dashboard_table(user: Any, reach: Reach, filters: Filters, name: str) -> Table:
    """One table of a dashboard the user reached; NotFound for a name the audience
    does not have (a Council user asking for the most affected organizations)."""
    functions = dict(TABLES.get(reach.audience, ()))
    if name not in functions:
        raise NotFound(_("This dashboard has no such figure."))
    return _cached(
        user, reach, filters, name, lambda: functions[name](context_for(user, reach, filters))
    )


def dashboard_tables(user: Any, reach: Reach, filters: Filters) -> list[Table]:
    ctx = context_for(user, reach, filters)
    # One read of the rollups' version for the page, not one per table.
    version = rollup_version() if reach.audience != ORGANIZATION else None
    return [
        _cached(user, reach, filters, name, partial(function, ctx), version)
        for name, function in TABLES.get(reach.audience, ())
    ]


def national_aggregates(
    user: Any, *, start: dt.date | None = None, end: dt.date | None = None
) -> list[Table]:
    """The Council-safe national figures for a period (default: the last twelve weeks):
    incidents per week, by sector, category and priority; open, overdue and SLA
    compliance per CERT; feed events per week by sector and by report type;
    acknowledgement rates by advisory severity. Never an incident, an organization or an
    advisory by name. For Council members, the National CERT and admins; NotFound for
    anyone else. Each ``Table`` has ``title``, ``unit``, ``columns`` and ``rows``; its
    plot is at ``awareness:plot`` with audience ``council`` and the table's ``name``."""
    reach = reach_for(user, COUNCIL)
    return dashboard_tables(user, reach, Filters.parse(start=start, end=end))


# --- Dashboard choices and reports ------------------------------------------------------


def filter_choices(user: Any, reach: Reach) -> tuple[list[Sector], list[Team]]:
    """The sectors and CERTs a dashboard's filters offer."""
    sectors = list(Sector.objects.order_by("name"))
    if reach.audience == ORGANIZATION:
        return sectors, []
    teams = Team.objects.order_by("path")
    if reach.team_ids is not None:
        teams = teams.filter(pk__in=sorted(reach.team_ids))
    return sectors, list(teams)


def has_dashboard(user: Any) -> bool:
    """Whether ``dashboards_for`` would list anything, from the user's scope alone (no
    query: the navigation asks on every page). Any team or organization seat reaches
    its own dashboard; admins, the National CERT and the Council reach theirs."""
    scope = scope_for(user)
    return bool(
        scope.is_admin
        or scope.is_council
        or is_national_staff(scope)
        or scope.teams
        or scope.org_ids
    )


def dashboards_for(user: Any) -> list[Reach]:
    """Every dashboard the user may open (for the index page)."""
    scope = scope_for(user)
    reaches: list[Reach] = []
    if scope.is_admin or is_national_staff(scope):
        reaches.append(reach_for(user, NATIONAL))
    # The user's own teams and organizations: reach_for would allow each (a seat covers
    # its own team, a member its organization), so build them here in two queries
    # rather than two per seat.
    teams = list(Team.objects.filter(pk__in=sorted(scope.team_ids)).order_by("path"))
    if teams:
        below = Q(pk__in=[])
        for team in teams:
            below |= Q(path__startswith=team.path)
        paths = list(Team.objects.filter(below).values_list("pk", "path"))
        for team in teams:
            ids = frozenset(pk for pk, path in paths if path.startswith(team.path))
            reaches.append(Reach(TEAM, team.slug, team.name, team_ids=ids))
    for org in Organization.objects.filter(pk__in=sorted(scope.org_ids)).order_by("name"):
        reaches.append(
            Reach(ORGANIZATION, org.slug, org.name, organization_ids=frozenset({org.pk}))
        )
    if may_read_aggregates(user):
        reaches.append(reach_for(user, COUNCIL))
    return reaches


def report_editions_for(user: Any) -> list[str]:
    """Which report editions the user may list and download: the National CERT and
    admins both, Council members the Council edition."""
    scope = scope_for(user)
    if scope.is_admin or is_national_staff(scope):
        return [NationalReport.Edition.NATIONAL, NationalReport.Edition.COUNCIL]
    if scope.is_council:
        return [NationalReport.Edition.COUNCIL]
    return []


def reports_visible_to(user: Any) -> QuerySet[NationalReport]:
    return NationalReport.objects.filter(edition__in=report_editions_for(user))


def get_report(user: Any, pk: int) -> NationalReport:
    report = reports_visible_to(user).filter(pk=pk).first()
    if report is None:
        raise NotFound(_("No such report."))
    return report


def may_generate_reports(user: Any) -> bool:
    """Coordinators of the National CERT and admins."""
    scope = scope_for(user)
    return scope.is_admin or any(
        seat.path.count("/") == 2 and seat.role == "coordinator" for seat in scope.teams
    )


@dataclass(frozen=True)
class NotableIncident:
    """An incident as a report shows it: anonymised to sector and category."""

    reported: dt.date
    sector: str
    category: str
    priority: str
    status: str


def notable_incidents(start: dt.date, end: dt.date, *, limit: int = 15) -> list[NotableIncident]:
    """The period's most severe incidents (priority High and above), for the national
    report: no reference, title, organization or team; only day, sector, category,
    priority and status (unscoped: the report's audience is checked where it is
    generated and downloaded)."""
    labels = categories()
    begin = dt.datetime.combine(start, dt.time.min, tzinfo=dt.UTC)
    finish = dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=dt.UTC)
    incidents = (
        Incident.objects.filter(reported_at__gte=begin, reported_at__lt=finish, priority__gte=3)
        .select_related("reporting_org__sector")
        .order_by("-priority", "reported_at")[:limit]
    )
    return [
        NotableIncident(
            reported=i.reported_at.astimezone(dt.UTC).date(),
            sector=i.reporting_org.sector.name if i.reporting_org else str(UNKNOWN),
            category=labels.get(i.category, i.category) or str(UNKNOWN),
            priority=priority_label(i.priority),
            status=str(i.get_status_display()),
        )
        for i in incidents
    ]
