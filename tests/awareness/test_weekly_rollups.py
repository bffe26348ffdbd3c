"""The weekly rollups behind the aggregate dashboards (issue 7): each week holds exactly
what its days hold, counted from the raw events and incidents; a range that starts or
ends inside a week reads those days from the daily rows, so every figure is what the
daily rows alone would give; and reading weeks widens nobody's view."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

import pytest
from django.db.models import Count
from django.test import Client

from certhub.awareness import selectors, services
from certhub.awareness.models import (
    EventWeekRollup,
    IncidentCategoryWeekRollup,
    IncidentWeekRollup,
    OrgEventWeekRollup,
    week_of,
)
from certhub.feeds.models import Event
from certhub.incidents.catalog import categories
from certhub.incidents.choices import OPEN
from certhub.incidents.models import Incident
from tests.awareness.test_dashboards import as_dict, client_for, csv_rows
from tests.factories import World, make_incident

pytestmark = pytest.mark.django_db

FEED_DAY = dt.date(2026, 11, 27)  # a Friday: the day of the feed files


def spread_over_weeks(world: World) -> None:
    """Move a third of the events a week back and another third twelve days back, and
    report incidents over five weeks, then recount everything (as after a restore)."""
    ids = list(Event.objects.order_by("id").values_list("id", flat=True))
    Event.objects.filter(id__in=ids[0::3]).update(day=FEED_DAY - dt.timedelta(days=7))
    Event.objects.filter(id__in=ids[1::3]).update(day=FEED_DAY - dt.timedelta(days=12))
    reporters = ["national-bank.reporter", "telco.reporter", "punjab-health.reporter"]
    kinds = [
        ("malicious-code", "infected-system"),
        ("fraud", "masquerade"),
        ("availability", "ddos"),
    ]
    now = dt.datetime.combine(FEED_DAY, dt.time(10), tzinfo=dt.UTC)
    for n in range(15):
        incident = make_incident(
            world.users[reporters[n % 3]],
            title=f"Incident {n}",
            category=kinds[n % 3][0],
            type=kinds[n % 3][1],
        )
        Incident.objects.filter(pk=incident.pk).update(
            reported_at=now - dt.timedelta(days=2 * n + n % 2),
            status="closed" if n % 4 == 0 else "new",
        )
    services.refresh_all()


def incident_week(incident: Incident) -> dt.date:
    return week_of(incident.reported_at.astimezone(dt.UTC).date())


def test_each_week_holds_what_the_raw_events_and_incidents_of_its_days_count(
    world: World, landscape: Any
) -> None:
    spread_over_weeks(world)
    assert EventWeekRollup.objects.values("week").distinct().count() == 3

    raw_events: Counter[tuple[Any, ...]] = Counter()
    for day, team, sector, feed, n in (
        Event.objects.values_list("day", "team_id", "sector_id", "feed_name")
        .annotate(n=Count("id"))
        .order_by()
    ):
        raw_events[(week_of(day), team, sector, feed)] += n
    weekly_events: Counter[tuple[Any, ...]] = Counter()
    for week, team, sector, feed, n in EventWeekRollup.objects.values_list(
        "week", "team_id", "sector_id", "feed_name", "events"
    ):
        weekly_events[(week, team, sector, feed)] += n
    assert weekly_events == raw_events

    raw_orgs: Counter[tuple[Any, ...]] = Counter()
    raw_host_days: Counter[tuple[Any, ...]] = Counter()
    routed = Event.objects.filter(organization__isnull=False)
    for day, org, n in routed.values_list("day", "organization_id").annotate(n=Count("id")):
        raw_orgs[(week_of(day), org)] += n
    for day, org, _feed, _ip in routed.values_list(
        "day", "organization_id", "feed_name", "source_ip"
    ).distinct():
        raw_host_days[(week_of(day), org)] += 1
    assert {
        (week, org): events
        for week, org, events in OrgEventWeekRollup.objects.values_list(
            "week", "organization_id", "events"
        )
    } == dict(raw_orgs)
    assert {
        (week, org): hosts
        for week, org, hosts in OrgEventWeekRollup.objects.values_list(
            "week", "organization_id", "hosts"
        )
    } == dict(raw_host_days)

    incidents = list(Incident.objects.all())
    by_priority = Counter((incident_week(i), i.handling_team_id, i.priority) for i in incidents)
    still_open = Counter(
        (incident_week(i), i.handling_team_id, i.priority) for i in incidents if i.status in OPEN
    )
    rows = IncidentWeekRollup.objects.values_list(
        "week", "team_id", "priority", "incidents", "open"
    )
    assert {(w, t, p): n for w, t, p, n, _o in rows} == dict(by_priority)
    assert {(w, t, p): o for w, t, p, _n, o in rows if o} == dict(still_open)
    by_category = Counter((incident_week(i), i.handling_team_id, i.category) for i in incidents)
    assert {
        (w, t, c): n
        for w, t, c, n in IncidentCategoryWeekRollup.objects.values_list(
            "week", "team_id", "category", "incidents"
        )
    } == dict(by_category)


def test_a_range_cut_inside_weeks_counts_exactly_the_incidents_reported_in_it(
    world: World, landscape: Any
) -> None:
    spread_over_weeks(world)
    coordinator = client_for(world, "national.coordinator")
    # Thursday to Wednesday, and Sunday to Saturday: whole weeks in the middle, parts of
    # weeks at either end.
    for start, end in (
        (dt.date(2026, 10, 29), dt.date(2026, 11, 25)),
        (dt.date(2026, 11, 1), dt.date(2026, 11, 21)),
        (dt.date(2026, 11, 24), dt.date(2026, 11, 26)),
    ):
        span = selectors.span_of(selectors.Filters.parse(start=start, end=end))
        query = {"start": start.isoformat(), "end": end.isoformat()}
        begin = dt.datetime.combine(start, dt.time.min, tzinfo=dt.UTC)
        finish = dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=dt.UTC)
        inside = Incident.objects.filter(reported_at__gte=begin, reported_at__lt=finish)
        assert inside.exists()
        categories_shown = as_dict(
            csv_rows(coordinator.get("/awareness/national/data/incidents_category.csv", query))
        )
        labels = categories()
        raw = Counter(labels[i.category] for i in inside)
        assert categories_shown == {label: str(n) for label, n in raw.items()}, span
        health = {
            row[0]: row
            for row in csv_rows(coordinator.get("/awareness/national/data/team_health.csv", query))[
                1:
            ]
        }
        banking = inside.filter(handling_team=world.teams["banking"])
        assert health.get("Banking", ["", "0", "0"])[1:3] == [
            str(banking.count()),
            str(banking.filter(status__in=OPEN).count()),
        ]
        weeks = csv_rows(coordinator.get("/awareness/national/data/incidents_week.csv", query))
        per_week = Counter(incident_week(i) for i in inside)
        assert {
            row[0]: sum(int(v) for v in row[1:])
            for row in weeks[1:]
            if any(v != "0" for v in row[1:])
        } == {w.isoformat(): n for w, n in per_week.items()}


def test_the_span_reads_whole_weeks_from_the_weekly_rows_and_the_rest_by_day() -> None:
    def span(start: str, end: str) -> selectors.Span:
        return selectors.span_of(selectors.Filters.parse(start=start, end=end))

    monday, sunday = dt.date(2026, 11, 2), dt.date(2026, 11, 8)
    assert span("2026-11-02", "2026-11-08") == selectors.Span((monday, monday), ())
    assert span("2026-11-01", "2026-11-10") == selectors.Span(
        (monday, monday),
        (
            (dt.date(2026, 11, 1), dt.date(2026, 11, 1)),
            (sunday + dt.timedelta(days=1), dt.date(2026, 11, 10)),
        ),
    )
    assert span("2026-11-03", "2026-11-08") == selectors.Span(
        None, ((dt.date(2026, 11, 3), sunday),)
    )
    assert span("2026-11-27", "2026-11-27") == selectors.Span(
        None, ((dt.date(2026, 11, 27), dt.date(2026, 11, 27)),)
    )


def test_weekly_figures_stay_inside_the_readers_branch(world: World, landscape: Any) -> None:
    spread_over_weeks(world)
    query = {"start": "2026-11-01", "end": "2026-11-28"}
    analyst = client_for(world, "banking.analyst")
    sectors = as_dict(
        csv_rows(analyst.get("/awareness/team/banking/data/incidents_sector.csv", query))
    )
    assert set(sectors) == {"Banking"}
    bank_incidents = Incident.objects.filter(
        handling_team=world.teams["banking"],
        reported_at__gte=dt.datetime(2026, 11, 1, tzinfo=dt.UTC),
        reported_at__lt=dt.datetime(2026, 11, 29, tzinfo=dt.UTC),
    )
    assert sectors["Banking"] == str(bank_incidents.count())
    events = csv_rows(analyst.get("/awareness/team/banking/data/events_sector_week.csv", query))
    assert events[0][1:] == ["Banking"]
    assert (
        sum(int(row[1]) for row in events[1:])
        == Event.objects.filter(team=world.teams["banking"], day__gte=dt.date(2026, 11, 1)).count()
    )
    top = {
        row[0]
        for row in csv_rows(
            analyst.get("/awareness/team/banking/data/top_organizations.csv", query)
        )[1:]
    }
    assert top
    assert top <= {"National-Bank", "City-Bank"}
    assert (
        analyst.get("/awareness/team/telecom/data/incidents_sector.csv", query).status_code == 404
    )
    assert analyst.get("/awareness/national/data/top_organizations.csv", query).status_code == 404
    reporter: Client = client_for(world, "telco.reporter")
    assert reporter.get("/awareness/team/banking/", query).status_code == 404
    assert reporter.get("/awareness/council/data/incidents_week.csv", query).status_code == 404
    council = client_for(world, "council")
    assert council.get("/awareness/council/data/top_organizations.csv", query).status_code == 404


def test_closing_an_incident_updates_its_week(world: World, landscape: Any, committed: Any) -> None:
    incident = landscape["bank"]
    week = incident_week(incident)
    team = world.teams["banking"]

    def still_open() -> int:
        return sum(
            IncidentWeekRollup.objects.filter(week=week, team=team).values_list("open", flat=True)
        )

    assert still_open() == 1

    def close() -> None:
        stored = Incident.objects.get(pk=incident.pk)
        stored.status = "closed"
        stored.save()

    committed(close)
    assert still_open() == 0
