"""Benchmark: the awareness dashboards at national scale.

Builds a fresh database from the demo constituency, fills it with a year of feed events
(default 10,000,000: bulk SQL inserts on SQLite, COPY on PostgreSQL, the rows a year of
national feeds would leave) and incidents (default 100,000, with their response SLA
deadlines), builds the daily rollups from them with the same service the ingest and
incident signals call, then times through Django's test client (the whole request path:
middleware, auth, visibility, templates):

- each dashboard page (national, a sectoral CERT, an organization, the Council): its
  tables computed from the rollups (whole weeks from the weekly ones, the days around
  them from the daily ones), twelve weeks by default;
- each dashboard's SVG plots, cold (cache emptied before every request: the query and
  matplotlib's drawing) and warm (cached under the rollup version);
- the statistics API (GET /api/v1/statistics/incidents?group_by=sector, /events?group_by=week);

and prints p50 / p95 in milliseconds. Target (issue 7): every dashboard under 300 ms.
The peer's figure is printed for reference: TheHive 4 took 60 s for its statistics at
15,000 cases (TheHive issue #1959); it is not run here. Run from the repository root:

    .venv/bin/python bench/awareness.py [--events 10000000] [--incidents 100000]
        [--db sqlite,postgresql]
        [--database-url postgresql://postgres@127.0.0.1:5432/bench_awareness]

The PostgreSQL database named in the URL is created and dropped by this script.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/bench_awareness"
RUNS = 30
DAYS = 365
PEER = "TheHive 4: 60 s for statistics at 15,000 cases (TheHive issue #1959; not run here)"

# (feed.name, feed.code, classification.taxonomy, classification.type, identifier, weight)
FEEDS = [
    ("Shadowserver Scan-HTTP", "scan_http", "vulnerable", "vulnerable-system", "http", 20),
    ("Shadowserver Scan-SSL", "scan_ssl", "vulnerable", "vulnerable-system", "ssl", 12),
    ("Shadowserver Scan-RDP", "scan_rdp", "vulnerable", "vulnerable-system", "rdp", 6),
    ("Shadowserver Scan-SMB", "scan_smb", "vulnerable", "vulnerable-system", "smb", 4),
    ("Shadowserver Open-DNS", "scan_dns", "vulnerable", "ddos-amplifier", "dns", 8),
    ("Shadowserver Open-NTP", "scan_ntp", "vulnerable", "ddos-amplifier", "ntp", 5),
    ("Shadowserver Sinkhole", "event4_sinkhole", "malicious-code", "infected-system", "bot", 15),
    ("Shadowserver Honeypot", "event4_honeypot", "intrusion-attempts", "brute-force", "ssh", 10),
    (
        "Shadowserver Compromised",
        "compromised_website",
        "intrusions",
        "system-compromise",
        "web",
        2,
    ),
    ("Partner Blocklist", "blocklist", "abusive-content", "spam", "spam", 8),
]
COLUMNS = [
    "file_id",
    "line",
    "day",
    "identity_hash",
    "count",
    "time_source",
    "last_seen",
    "time_observation",
    "feed_name",
    "feed_code",
    "classification_taxonomy",
    "classification_type",
    "classification_identifier",
    "source_ip",
    "source_ip_key",
    "extra",
    "organization_id",
    "team_id",
    "sector_id",
    "is_cii",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--incidents", type=int, default=100_000)
    parser.add_argument("--db", default="sqlite,postgresql")
    parser.add_argument("--database-url", default=DEFAULT_PG)
    parser.add_argument("--worker", choices=["sqlite", "postgresql"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        run_worker(args.worker, args.events, args.incidents)
        return
    print(
        f"certhub awareness benchmark: {args.events:,} events over {DAYS} days, "
        f"{args.incidents:,} incidents, {RUNS} requests per figure"
    )
    print(f"peer: {PEER}")
    for db in args.db.split(","):
        with tempfile.TemporaryDirectory(prefix="certhub-bench-") as data_dir:
            env = {
                **os.environ,
                "CERTHUB_DATA_DIR": data_dir,
                "CERTHUB_DEMO": "1",
                "CERTHUB_REQUIRE_MFA": "false",
                "DJANGO_SETTINGS_MODULE": "certhub.settings",
            }
            if db == "postgresql":
                if not _pg_reset(args.database_url):
                    print("postgresql: not reachable, skipped")
                    continue
                env["CERTHUB_DATABASE_URL"] = args.database_url
            try:
                subprocess.run(
                    [
                        sys.executable,
                        __file__,
                        "--worker",
                        db,
                        "--events",
                        str(args.events),
                        "--incidents",
                        str(args.incidents),
                    ],
                    env=env,
                    check=True,
                    cwd=ROOT,
                )
            finally:
                if db == "postgresql":
                    _pg_drop(args.database_url)


def _server_and_name(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    name = parts.path.strip("/") or "bench_awareness"
    return urlunsplit(parts._replace(path="/postgres")), name


def _psql(url: str, sql: str) -> bool:
    server, _name = _server_and_name(url)
    result = subprocess.run(["psql", server, "-qc", sql], capture_output=True, text=True)
    return result.returncode == 0


def _pg_reset(url: str) -> bool:
    _pg_drop(url)
    return _psql(url, f'CREATE DATABASE "{_server_and_name(url)[1]}"')


def _pg_drop(url: str) -> None:
    _psql(url, f'DROP DATABASE IF EXISTS "{_server_and_name(url)[1]}" WITH (FORCE)')


def run_worker(db: str, events: int, incidents: int) -> None:
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    with open(os.devnull, "w") as quiet:
        call_command("demo", force=True, stdout=quiet)
    from certhub.awareness import services

    t0 = time.perf_counter()
    fill_events(db, events)
    t1 = time.perf_counter()
    fill_incidents(incidents)
    t2 = time.perf_counter()
    services.refresh_all_events()
    t3 = time.perf_counter()
    services.refresh_all_incidents()
    t4 = time.perf_counter()
    print(
        f"\n{db}: events filled in {t1 - t0:.0f} s, incidents in {t2 - t1:.0f} s; "
        f"rollups built: events {t3 - t2:.0f} s ({(t3 - t2) / DAYS * 1000:.0f} ms a day, "
        f"what an ingest's signal costs per day it touched), incidents {t4 - t3:.1f} s"
    )
    measure()


def fill_events(db: str, total: int) -> None:
    """Insert ``total`` events spread over the last DAYS days, routed to the demo's
    organizations (5 % unrouted), each organization with its own pool of hosts."""
    from django.db import connection, transaction

    from certhub.feeds.models import ReportFile
    from certhub.tenancy.models import Organization

    rng = random.Random(42)
    report = ReportFile.objects.create(sha256="0" * 64, size=0, name="bench")
    orgs = list(
        Organization.objects.values_list("pk", "responsible_team_id", "sector_id", "is_cii")
    )
    weights = [rng.randint(1, 20) for _ in orgs]
    feed_weights = [f[5] for f in FEEDS]
    today = dt.datetime.now(dt.UTC).date()
    first_day = today - dt.timedelta(days=DAYS)
    per_day = total // DAYS
    pg = connection.vendor == "postgresql"
    table = "feeds_event"
    # Indexes are rebuilt once at the end: maintaining five B-trees row by row would make
    # the fill, not the dashboards, the benchmark.
    indexes = _drop_event_indexes(connection)
    number = 0
    chunk: list[tuple[Any, ...]] = []

    def flush() -> None:
        with transaction.atomic(), connection.cursor() as cursor:
            if pg:
                raw = cursor.cursor
                # COPY's text format, built here: faster than adapting row by row.
                lines = "".join(
                    "\t".join("\\N" if v is None else str(v) for v in row) + "\n" for row in chunk
                )
                with raw.copy(f"COPY {table} ({', '.join(COLUMNS)}) FROM STDIN") as copy:
                    copy.write(lines)
            else:
                marks = ", ".join(["%s"] * len(COLUMNS))
                cursor.executemany(
                    f"INSERT INTO {table} ({', '.join(COLUMNS)}) VALUES ({marks})", chunk
                )
        chunk.clear()

    org_choices = rng.choices(range(len(orgs)), weights=weights, k=200_000)
    feed_choices = rng.choices(range(len(FEEDS)), weights=feed_weights, k=200_000)
    for d in range(DAYS):
        day = first_day + dt.timedelta(days=d)
        stamp: Any = dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC)
        if not pg:
            stamp = f"{day.isoformat()} 12:00:00"
        day_value: Any = day if pg else day.isoformat()
        count = per_day + (total - per_day * DAYS if d == DAYS - 1 else 0)
        for _ in range(count):
            number += 1
            feed = FEEDS[feed_choices[number % 200_000]]
            if number % 20 == 0:
                org_id = team_id = sector_id = None
                is_cii = False
                host = number % 5000
            else:
                org_id, team_id, sector_id, is_cii = orgs[org_choices[number % 200_000]]
                host = (org_id * 1000 + (number * 7919) % 700) % 16_000_000
            ip_int = 0x0A000000 + host
            chunk.append(
                (
                    report.pk,
                    number,
                    day_value,
                    number,
                    1,
                    stamp,
                    stamp,
                    stamp,
                    feed[0],
                    feed[1],
                    feed[2],
                    feed[3],
                    feed[4],
                    f"10.{(ip_int >> 16) & 255}.{(ip_int >> 8) & 255}.{ip_int & 255}",
                    f"00000000000000000000ffff{ip_int:08x}",
                    "{}",
                    org_id,
                    team_id,
                    sector_id,
                    is_cii,
                )
            )
            if len(chunk) >= 50_000:
                flush()
    if chunk:
        flush()
    _restore_event_indexes(connection, indexes)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def _drop_event_indexes(connection: Any) -> list[str]:
    """Drop the event table's secondary indexes and return the statements that rebuild
    them. The (day, identity) unique key stays: rows arrive in its order, so it only
    ever appends."""
    from certhub.feeds.models import Event

    statements: list[str] = []
    with connection.schema_editor() as editor:
        for index in Event._meta.indexes:
            statements.append(str(index.create_sql(Event, editor)))
            editor.execute(f"DROP INDEX {editor.quote_name(index.name)}")
    return statements


def _restore_event_indexes(connection: Any, statements: list[str]) -> None:
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def fill_incidents(total: int) -> None:
    """Incidents of the last year with their response SLA deadlines (most met, some late,
    some still running), bulk-inserted."""
    from django.db import transaction
    from django.utils import timezone

    from certhub.incidents.catalog import taxonomy
    from certhub.incidents.models import Deadline, Incident
    from certhub.tenancy.models import Organization

    rng = random.Random(7)
    orgs = list(Organization.objects.select_related("responsible_team"))
    kinds = list(taxonomy())
    statuses = ["new", "triaged", "in_progress", "resolved", "closed", "closed", "closed"]
    now = timezone.now()
    year = now.year
    through = Incident.affected_orgs.through
    for start in range(0, total, 5_000):
        batch = []
        for n in range(start, min(total, start + 5_000)):
            org = rng.choice(orgs)
            category, kind = rng.choice(kinds)
            batch.append(
                Incident(
                    reference=f"BENCH-{year}-{n + 1:06d}",
                    title=f"{category} at {org.name} #{n}",
                    status=rng.choice(statuses),
                    channel="organization",
                    category=category,
                    type=kind,
                    reporting_org=org,
                    handling_team=org.responsible_team,
                    reported_at=now - dt.timedelta(minutes=rng.randint(0, 60 * 24 * DAYS)),
                    priority=rng.choice([0, 1, 1, 2, 2, 2, 3, 3, 4, 5]),
                )
            )
        with transaction.atomic():
            created = Incident.objects.bulk_create(batch, batch_size=1000)
            if not created[0].pk:
                refs = [i.reference for i in created]
                created = list(Incident.objects.filter(reference__in=refs).order_by("id"))
            through.objects.bulk_create(
                [through(incident_id=i.pk, organization_id=i.reporting_org_id) for i in created],
                batch_size=2000,
            )
            deadlines = []
            for i in created:
                for kind, hours in (("acknowledge", 4), ("first_response", 24), ("resolve", 240)):
                    due = i.reported_at + dt.timedelta(hours=hours)
                    late = rng.random() < 0.15
                    met = due + dt.timedelta(hours=3 if late else -1)
                    deadlines.append(
                        Deadline(
                            incident_id=i.pk,
                            kind=kind,
                            due_at=due,
                            met_at=met if met < now and i.status != "new" else None,
                        )
                    )
            Deadline.objects.bulk_create(deadlines, batch_size=2000)


def _p(timings: list[float]) -> tuple[float, float]:
    timings = sorted(timings)
    return statistics.median(timings), timings[max(0, int(len(timings) * 0.95) - 1)]


def measure() -> None:
    import re

    from django.core.cache import cache
    from django.test import Client

    from certhub.accounts.models import User
    from certhub.awareness.models import (
        EventRollup,
        EventWeekRollup,
        IncidentCategoryWeekRollup,
        IncidentRollup,
        IncidentWeekRollup,
        OrgEventRollup,
        OrgEventWeekRollup,
    )
    from certhub.feeds.models import Event
    from certhub.incidents.models import Incident
    from certhub.tenancy.models import Organization

    org = Organization.objects.filter(
        slug__in=Event.objects.values("organization__slug")[:1]
    ).first()
    bank_org = Organization.objects.filter(sector__slug="banking").order_by("slug").first() or org
    assert bank_org is not None
    reporter = f"{bank_org.slug}.reporter"
    cases = [
        ("national", "national.coordinator", "/awareness/national/"),
        ("team (Banking CERT)", "banking.coordinator", "/awareness/team/banking/"),
        ("organization", reporter, f"/awareness/organization/{bank_org.slug}/"),
        ("council", "council.member", "/awareness/council/"),
    ]
    print(
        "ms: cold = cache emptied before each request (rollup queries, template, matplotlib);"
        "\n    warm = tables and SVGs cached under the rollups' version (until the next refresh)"
    )
    print(
        f"{'dashboard':<22}{'page cold p50':>14}{'p95':>7}{'warm p95':>10}"
        f"{'plot cold p50':>15}{'p95':>7}{'warm p95':>10}"
    )
    for label, username, path in cases:
        user = User.objects.get(username=username)
        client = Client(HTTP_HOST="127.0.0.1")
        client.force_login(user)
        cold_pages, warm_pages = [], []
        html = ""
        for _ in range(RUNS):
            cache.clear()
            t0 = time.perf_counter()
            response = client.get(path)
            cold_pages.append((time.perf_counter() - t0) * 1000)
            assert response.status_code == 200, (path, response.status_code)
            html = response.content.decode()
            t0 = time.perf_counter()
            client.get(path)
            warm_pages.append((time.perf_counter() - t0) * 1000)
        plots = [p.replace("&amp;", "&") for p in re.findall(r'src="([^"]+\.svg[^"]*)"', html)]
        cold, warm = [], []
        for _ in range(max(2, RUNS // max(1, len(plots)))):
            for plot in plots:
                cache.clear()
                t0 = time.perf_counter()
                response = client.get(plot)
                cold.append((time.perf_counter() - t0) * 1000)
                assert response.status_code == 200, (plot, response.status_code)
                t0 = time.perf_counter()
                client.get(plot)
                warm.append((time.perf_counter() - t0) * 1000)
        p50, p95 = _p(cold_pages)
        _w, w95 = _p(warm_pages)
        c50, c95 = _p(cold or [0.0])
        _w, pw95 = _p(warm or [0.0])
        print(
            f"{label:<22}{p50:>14.1f}{p95:>7.1f}{w95:>10.1f}{c50:>15.1f}{c95:>7.1f}{pw95:>10.1f}"
            f"  ({len(plots)} plots)"
        )
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(User.objects.get(username="national.coordinator"))
    for url in (
        "/api/v1/statistics/incidents?group_by=sector",
        "/api/v1/statistics/events?group_by=week",
    ):
        timings = []
        for _ in range(RUNS):
            cache.clear()
            t0 = time.perf_counter()
            response = client.get(url)
            timings.append((time.perf_counter() - t0) * 1000)
            assert response.status_code == 200, (url, response.content[:300])
        p50, p95 = _p(timings)
        print(f"{url:<52} cold p50 {p50:6.1f}  p95 {p95:6.1f} ms")
    print(
        f"(database: {Event.objects.count():,} events, {Incident.objects.count():,} incidents; "
        f"rollups: {EventRollup.objects.count():,} + {OrgEventRollup.objects.count():,} event "
        f"rows, {IncidentRollup.objects.count():,} incident rows; weekly: "
        f"{EventWeekRollup.objects.count():,} + {OrgEventWeekRollup.objects.count():,} event "
        f"rows, {IncidentWeekRollup.objects.count():,} + "
        f"{IncidentCategoryWeekRollup.objects.count():,} incident rows)"
    )
    print(f"peer: {PEER}")


if __name__ == "__main__":
    main()
