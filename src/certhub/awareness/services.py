"""Every write of the awareness app: refreshing the daily rollups, and generating and
storing the national reports.

Rollups are derived data: a refresh replaces the rows of the days it is given with fresh
counts from the events or incidents of those days, so running it twice changes nothing
and running it late only catches up. They are refreshed
- for events, when the feeds app says an ingest committed (``feeds.signals.events_loaded``
  with the days the file touched: see ``apps.py``);
- for incidents, after a transaction that saved an incident or one of its deadlines
  (the incident's day), and by the periodic task (hourly: open deadlines fall overdue
  without anyone saving anything, so "overdue" is as of the last refresh);
- everything at once with ``refresh_all`` (the bench, an operator after a restore).
Rollup refreshes write no audit entry: they record nothing anyone did. Generating a
report does.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Count, F, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from certhub.audit.services import record
from certhub.awareness.models import (
    EVENT_KEYS,
    EventRollup,
    EventWeekRollup,
    IncidentCategoryWeekRollup,
    IncidentRollup,
    IncidentWeekRollup,
    NationalReport,
    OrgEventRollup,
    OrgEventWeekRollup,
    RollupState,
    week_of,
)
from certhub.feeds.selectors import events_of_day
from certhub.incidents.choices import OPEN, SLA_DEADLINES
from certhub.incidents.models import Deadline, Incident

EVENTS = "events"
INCIDENTS = "incidents"


def _bump(kind: str) -> None:
    now = timezone.now()
    updated = RollupState.objects.filter(kind=kind).update(
        version=F("version") + 1, refreshed_at=now
    )
    if not updated:
        RollupState.objects.get_or_create(kind=kind, defaults={"version": 1, "refreshed_at": now})


# --- Events -----------------------------------------------------------------------------


@transaction.atomic
def refresh_event_days(*, days: Iterable[dt.date]) -> int:
    """Recount the feed events of ``days`` into both event rollups. Returns the rows
    written. One grouped query per day and rollup: a day of a national feed load is tens
    of thousands of events, grouped by the database."""
    written = 0
    days = sorted(set(days))
    for day in days:
        EventRollup.objects.filter(day=day).delete()
        OrgEventRollup.objects.filter(day=day).delete()
        events = events_of_day(day)
        groups = events.values(*EVENT_KEYS).annotate(n=Count("id"), seen=Sum("count"))
        rows = [
            EventRollup(
                day=day,
                **{key: g[key] for key in EVENT_KEYS},
                events=g["n"],
                sightings=g["seen"] or 0,
            )
            for g in groups.order_by()
        ]
        EventRollup.objects.bulk_create(rows, batch_size=2000)
        by_org = (
            events.filter(organization_id__isnull=False)
            .values("organization_id", "sector_id", "team_id", "feed_name")
            .annotate(
                n=Count("id"),
                hosts=Count(Coalesce("source_ip_key", "source_fqdn"), distinct=True),
            )
        )
        org_rows = [
            OrgEventRollup(
                day=day,
                organization_id=g["organization_id"],
                sector_id=g["sector_id"],
                team_id=g["team_id"],
                feed_name=g["feed_name"],
                events=g["n"],
                hosts=g["hosts"],
            )
            for g in by_org.order_by()
        ]
        OrgEventRollup.objects.bulk_create(org_rows, batch_size=2000)
        written += len(rows) + len(org_rows)
    refresh_event_weeks(weeks={week_of(day) for day in days})
    _bump(EVENTS)
    return written


def _add_up_week(
    daily: type[Any], weekly: type[Any], week: dt.date, keys: Sequence[str], sums: Sequence[str]
) -> int:
    """Replace the ``weekly`` rollup rows of ``week`` (its Monday) by the ``daily`` rows
    of its seven days grouped by ``keys``, each of ``sums`` added up (the same column
    names in both tables). One grouped query over a few thousand daily rows."""
    weekly.objects.filter(week=week).delete()
    groups = (
        daily.objects.filter(day__range=(week, week + dt.timedelta(days=6)))
        .values(*keys)
        .annotate(**{f"sum_{name}": Sum(name) for name in sums})
        .order_by()
    )
    rows = [
        weekly(
            week=week,
            **{key: g[key] for key in keys},
            **{name: g[f"sum_{name}"] or 0 for name in sums},
        )
        for g in groups
    ]
    weekly.objects.bulk_create(rows, batch_size=2000)
    return len(rows)


def refresh_event_weeks(*, weeks: Iterable[dt.date]) -> int:
    """Add up the daily event rollups of each week (its Monday) into the weekly ones.
    Called inside the day refresh's transaction."""
    written = 0
    for week in sorted(set(weeks)):
        written += _add_up_week(
            EventRollup, EventWeekRollup, week, EVENT_KEYS, ("events", "sightings")
        )
        written += _add_up_week(
            OrgEventRollup,
            OrgEventWeekRollup,
            week,
            ("organization_id", "sector_id", "team_id"),
            ("events", "hosts"),  # hosts a day, added up: host-days
        )
    return written


def refresh_all_events() -> int:
    """Every day that has events (after a restore, or for the bench)."""
    from certhub.feeds.models import Event

    days = list(Event.objects.values_list("day", flat=True).distinct().order_by("day"))
    EventRollup.objects.exclude(day__in=days).delete()
    OrgEventRollup.objects.exclude(day__in=days).delete()
    weeks = sorted({week_of(day) for day in days})
    EventWeekRollup.objects.exclude(week__in=weeks).delete()
    OrgEventWeekRollup.objects.exclude(week__in=weeks).delete()
    return refresh_event_days(days=days) if days else 0


def on_events_loaded(sender: Any, *, run: Any = None, days: Any = None, **kwargs: Any) -> None:
    """Receiver of ``feeds.signals.events_loaded`` (connected in apps.py)."""
    if days:
        refresh_event_days(days=days)


# --- Incidents --------------------------------------------------------------------------


def _day_bounds(first: dt.date, last: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime.combine(first, dt.time.min, tzinfo=dt.UTC)
    end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time.min, tzinfo=dt.UTC)
    return start, end


def _incident_rows(incidents: Any, now: dt.datetime) -> list[IncidentRollup]:
    """Count ``incidents`` (a queryset) into rollup rows, in three reads whatever their
    number: the incidents, the sectors of affected organizations of those without a
    reporting organization, and their response SLA deadlines."""
    facts = list(
        incidents.values_list(
            "pk",
            "reported_at",
            "handling_team_id",
            "reporting_org__sector_id",
            "category",
            "priority",
            "status",
        ).order_by()
    )
    if not facts:
        return []
    ids = [f[0] for f in facts]
    through = Incident.affected_orgs.through
    without_org = [f[0] for f in facts if f[3] is None]
    affected_sector: dict[int, int] = {}
    for chunk in _chunks(without_org, 5000):
        for incident_id, sector_id in through.objects.filter(incident_id__in=chunk).values_list(
            "incident_id", "organization__sector_id"
        ):
            # The lowest sector id: one stable sector for an incident of several.
            if sector_id is not None:
                affected_sector[incident_id] = min(
                    sector_id, affected_sector.get(incident_id, sector_id)
                )
    decided: Counter[int] = Counter()
    met: Counter[int] = Counter()
    overdue: set[int] = set()
    sla = set(SLA_DEADLINES)
    for chunk in _chunks(ids, 5000):
        for incident_id, kind, due_at, met_at, paused_at in Deadline.objects.filter(
            incident_id__in=chunk
        ).values_list("incident_id", "kind", "due_at", "met_at", "paused_at"):
            late = met_at is None and paused_at is None and due_at < now
            if late:
                overdue.add(incident_id)
            if kind in sla and (met_at is not None or late):
                decided[incident_id] += 1
                met[incident_id] += met_at is not None and met_at <= due_at
    groups: dict[tuple[Any, ...], list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])
    for pk, reported_at, team_id, sector_id, category, priority, status in facts:
        key = (
            reported_at.astimezone(dt.UTC).date(),
            team_id,
            sector_id if sector_id is not None else affected_sector.get(pk),
            category,
            priority,
        )
        counts = groups[key]
        counts[0] += 1
        counts[1] += status in OPEN
        counts[2] += decided[pk]
        counts[3] += met[pk]
        counts[4] += pk in overdue
    return [
        IncidentRollup(
            day=day,
            team_id=team_id,
            sector_id=sector_id,
            category=category,
            priority=priority,
            incidents=c[0],
            open=c[1],
            sla_decided=c[2],
            sla_met=c[3],
            overdue=c[4],
        )
        for (day, team_id, sector_id, category, priority), c in groups.items()
    ]


def _chunks(items: list[int], size: int) -> Iterable[list[int]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


@transaction.atomic
def refresh_incident_days(*, days: Iterable[dt.date], now: dt.datetime | None = None) -> int:
    """Recount the incidents reported on ``days`` (a few hundred a day at most)."""
    now = now or timezone.now()
    written = 0
    days = sorted(set(days))
    for day in days:
        start, end = _day_bounds(day, day)
        IncidentRollup.objects.filter(day=day).delete()
        rows = _incident_rows(
            Incident.objects.filter(reported_at__gte=start, reported_at__lt=end), now
        )
        IncidentRollup.objects.bulk_create(rows, batch_size=2000)
        written += len(rows)
    refresh_incident_weeks(weeks={week_of(day) for day in days})
    _bump(INCIDENTS)
    return written


def refresh_incident_weeks(*, weeks: Iterable[dt.date]) -> int:
    """Add up the daily incident rollups of each week (its Monday) into the weekly ones:
    by team, sector and priority with every count, and by team, sector and category."""
    written = 0
    for week in sorted(set(weeks)):
        written += _add_up_week(
            IncidentRollup,
            IncidentWeekRollup,
            week,
            ("team_id", "sector_id", "priority"),
            ("incidents", "open", "sla_decided", "sla_met", "overdue"),
        )
        written += _add_up_week(
            IncidentRollup,
            IncidentCategoryWeekRollup,
            week,
            ("team_id", "sector_id", "category"),
            ("incidents",),
        )
    return written


@transaction.atomic
def refresh_all_incidents(*, now: dt.datetime | None = None) -> int:
    """Recount every incident (the periodic task; 100,000 incidents in a few seconds)."""
    now = now or timezone.now()
    IncidentRollup.objects.all().delete()
    IncidentWeekRollup.objects.all().delete()
    IncidentCategoryWeekRollup.objects.all().delete()
    rows = _incident_rows(Incident.objects.all(), now)
    IncidentRollup.objects.bulk_create(rows, batch_size=2000)
    refresh_incident_weeks(weeks={week_of(row.day) for row in rows})
    _bump(INCIDENTS)
    return len(rows)


def refresh_all() -> dict[str, int]:
    return {EVENTS: refresh_all_events(), INCIDENTS: refresh_all_incidents()}


# Days of incidents saved in the current transaction, refreshed once it commits. A
# rolled-back transaction leaves its days here: the next commit refreshes them too,
# which is harmless (a refresh only recounts).
_pending = threading.local()


def _pending_days() -> set[dt.date]:
    if not hasattr(_pending, "days"):
        _pending.days = set()
    days: set[dt.date] = _pending.days
    return days


def _flush_pending() -> None:
    days = _pending_days()
    if days:
        todo = sorted(days)
        days.clear()
        refresh_incident_days(days=todo)


def incident_changed(incident: Incident) -> None:
    """Schedule the recount of the incident's day after the current transaction."""
    if incident.reported_at is None:
        return
    _pending_days().add(incident.reported_at.astimezone(dt.UTC).date())
    transaction.on_commit(_flush_pending)


def on_incident_saved(sender: Any, instance: Incident, **kwargs: Any) -> None:
    incident_changed(instance)


def on_deadline_saved(sender: Any, instance: Deadline, **kwargs: Any) -> None:
    reported_at = (
        Incident.objects.filter(pk=instance.incident_id)
        .values_list("reported_at", flat=True)
        .first()
    )
    if reported_at is not None:
        _pending_days().add(reported_at.astimezone(dt.UTC).date())
        transaction.on_commit(_flush_pending)


# --- Reports ----------------------------------------------------------------------------


@transaction.atomic
def store_report(
    *,
    actor: Any,
    period: str,
    edition: str,
    start: dt.date,
    end: dt.date,
    title: str,
    pdf: bytes,
) -> NationalReport:
    """Keep a generated report (the PDF under its SHA-256) and record who generated it."""
    digest = hashlib.sha256(pdf).hexdigest()
    report = NationalReport(
        period=period,
        edition=edition,
        start=start,
        end=end,
        title=title,
        sha256=digest,
        size=len(pdf),
        generated_by=actor if getattr(actor, "pk", None) else None,
    )
    report.pdf.save(f"{start:%Y-%m}-{period}-{edition}-{digest[:12]}.pdf", ContentFile(pdf))
    record(
        actor=actor if getattr(actor, "pk", None) else None,
        action="awareness.report_generated",
        obj=report,
        changes={"period": period, "edition": edition, "start": str(start), "end": str(end)},
    )
    return report


def generate_report(
    *, actor: Any, period: str, edition: str, month: str | None = None
) -> NationalReport:
    """Render and keep the national report of a month or quarter (see reports.py).
    Rendering runs before the transaction that stores it: laying out a PDF takes
    seconds, and no lock is held meanwhile."""
    from certhub.awareness import reports

    if edition not in NationalReport.Edition.values:
        from certhub.core.errors import Invalid

        raise Invalid("The edition is national or council.")
    start, end = reports.period_bounds(period, month)
    context = reports.report_context(
        period=period, edition=edition, start=start, end=end, user=actor
    )
    pdf = reports.render_report_pdf(context)
    return store_report(
        actor=actor,
        period=period,
        edition=edition,
        start=start,
        end=end,
        title=context["title"],
        pdf=pdf,
    )


def generate_due_reports(*, today: dt.date | None = None) -> list[NationalReport]:
    """The reports of the last complete month and quarter not generated yet, both
    editions (the periodic task calls this: the reports appear once a period ends)."""
    from certhub.awareness import reports

    made = []
    for period in NationalReport.Period.values:
        start, _end = reports.period_bounds(period, today=today)
        for edition in NationalReport.Edition.values:
            if not NationalReport.objects.filter(
                period=period, edition=edition, start=start
            ).exists():
                made.append(
                    generate_report(
                        actor=None, period=period, edition=edition, month=f"{start:%Y-%m}"
                    )
                )
    return made
