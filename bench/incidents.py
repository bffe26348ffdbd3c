"""Benchmark: the incident queue, search and incident page at national scale.

Fills 100,000 incidents (with observables, affected organizations, deadlines and timeline
entries, bulk-inserted) into a fresh database built from the demo constituency, then
times, for a national analyst and a sectoral analyst, through Django's test client (the
whole request path: middleware, auth, visibility, serialisation):

- the queue list     GET /api/v1/incidents?limit=50
- the search         GET /api/v1/incidents?q=<observable value>&limit=50
- the incident page  GET /api/v1/incidents/<reference>

and prints p50 / p95 in milliseconds and the number of SQL queries each takes (which
must not grow with the data). Target (issue 3): p95 under 150 ms on SQLite and
PostgreSQL. Run from the repository root:

    .venv/bin/python bench/incidents.py [--incidents 100000] [--db sqlite,postgresql]

PostgreSQL is used at CERTHUB_BENCH_PG (default postgresql://postgres@127.0.0.1:5432/),
in a scratch database `certhub_bench` created and dropped by this script.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG_SERVER = os.environ.get("CERTHUB_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/")
PG_DB = "certhub_bench"
RUNS = 60


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=100_000)
    parser.add_argument("--db", default="sqlite,postgresql")
    parser.add_argument("--worker", choices=["sqlite", "postgresql"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        run_worker(args.worker, args.incidents)
        return
    print(f"certhub incident benchmark: {args.incidents:,} incidents, {RUNS} requests per figure")
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
                if not _pg_reset(env):
                    print("postgresql: not reachable, skipped")
                    continue
                env["CERTHUB_DATABASE_URL"] = PG_SERVER + PG_DB
            try:
                subprocess.run(
                    [sys.executable, __file__, "--worker", db, "--incidents", str(args.incidents)],
                    env=env,
                    check=True,
                    cwd=ROOT,
                )
            finally:
                if db == "postgresql":
                    _pg_drop(env)


def _psql(env: dict[str, str], sql: str) -> bool:
    result = subprocess.run(
        ["psql", PG_SERVER + "postgres", "-qc", sql], env=env, capture_output=True, text=True
    )
    return result.returncode == 0


def _pg_reset(env: dict[str, str]) -> bool:
    _pg_drop(env)
    return _psql(env, f"CREATE DATABASE {PG_DB}")


def _pg_drop(env: dict[str, str]) -> None:
    _psql(env, f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)")


def run_worker(db: str, total: int) -> None:
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    with open(os.devnull, "w") as quiet:
        call_command("demo", force=True, stdout=quiet)
    started = time.perf_counter()
    search_terms = fill(total)
    print(f"\n{db}: filled {total:,} incidents in {time.perf_counter() - started:.1f} s")
    measure(search_terms)


def fill(total: int) -> list[str]:
    """Bulk-insert incidents the way months of national operation would leave them."""
    import datetime as dt

    from django.db import transaction
    from django.utils import timezone

    from certhub.incidents.catalog import taxonomy
    from certhub.incidents.models import Deadline, Incident, Observable, TimelineEntry
    from certhub.tenancy.models import Organization

    rng = random.Random(42)
    orgs = list(Organization.objects.select_related("responsible_team"))
    kinds = list(taxonomy())
    statuses = ["new", "triaged", "in_progress", "resolved", "closed"]
    tlps = ["CLEAR", "GREEN", "AMBER", "AMBER", "AMBER+STRICT"]
    now = timezone.now()
    year = now.year
    through = Incident.affected_orgs.through
    search_terms: list[str] = []
    batch = 5_000
    for start in range(0, total, batch):
        incidents = []
        for n in range(start, min(total, start + batch)):
            org = rng.choice(orgs)
            category, kind = rng.choice(kinds)
            reported = now - dt.timedelta(minutes=rng.randint(0, 60 * 24 * 365))
            incidents.append(
                Incident(
                    reference=f"BENCH-{year}-{n + 1:06d}",
                    title=f"{category} at {org.name} #{n}",
                    description=f"Reported by {org.slug}: {kind} observed on a server.",
                    status=rng.choice(statuses),
                    channel="web",
                    category=category,
                    type=kind,
                    tlp=rng.choice(tlps),
                    pap="AMBER",
                    reporting_org=org,
                    handling_team=org.responsible_team,
                    reported_at=reported,
                    priority=rng.randint(0, 5),
                    severity_score=rng.randint(0, 100),
                )
            )
        with transaction.atomic():
            created = Incident.objects.bulk_create(incidents, batch_size=1000)
            if not created[0].pk:
                refs = [i.reference for i in created]
                created = list(Incident.objects.filter(reference__in=refs).order_by("id"))
            through.objects.bulk_create(
                [through(incident_id=i.pk, organization_id=i.reporting_org_id) for i in created],
                batch_size=2000,
            )
            observables, deadlines, timeline = [], [], []
            for i in created:
                value = f"198.51.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
                domain = f"c2-{rng.randint(0, 20000)}.evil.example"
                observables += [
                    Observable(incident_id=i.pk, kind="ipv4", value=value),
                    Observable(incident_id=i.pk, kind="domain", value=domain),
                ]
                if rng.random() < 0.001:
                    search_terms.append(domain)
                due = i.reported_at + dt.timedelta(hours=72)
                deadlines.append(Deadline(incident_id=i.pk, kind="notification", due_at=due))
                timeline.append(
                    TimelineEntry(
                        incident_id=i.pk, action="reported", summary="Reported through the web form"
                    )
                )
            Observable.objects.bulk_create(observables, batch_size=2000)
            Deadline.objects.bulk_create(deadlines, batch_size=2000)
            TimelineEntry.objects.bulk_create(timeline, batch_size=2000)
    return search_terms or ["evil.example"]


def measure(search_terms: list[str]) -> None:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from certhub.accounts.models import User
    from certhub.incidents.models import Incident

    users = ["national.analyst", "banking.analyst"]
    print(f"{'request':<34}{'user':<20}{'p50 ms':>9}{'p95 ms':>9}{'queries':>9}")
    for username in users:
        user = User.objects.get(username=username)
        client = Client(HTTP_HOST="127.0.0.1")
        client.force_login(user)
        from certhub.incidents.selectors import incidents_visible_to

        references = list(
            incidents_visible_to(user).order_by("?").values_list("reference", flat=True)[:RUNS]
        )
        rng = random.Random(7)
        cases = {
            "queue  /api/v1/incidents": lambda i: "/api/v1/incidents?limit=50",
            "search /api/v1/incidents?q=": lambda i, rng=rng: (
                f"/api/v1/incidents?limit=50&q={rng.choice(search_terms)}"
            ),
            "page   /api/v1/incidents/<ref>": lambda i, refs=references: (
                f"/api/v1/incidents/{refs[i % len(refs)]}"
            ),
        }
        for label, url_for in cases.items():
            timings, queries = [], set()
            for i in range(RUNS):
                url = url_for(i)
                with CaptureQueriesContext(connection) as captured:
                    t0 = time.perf_counter()
                    response = client.get(url)
                    timings.append((time.perf_counter() - t0) * 1000)
                assert response.status_code == 200, (
                    url,
                    response.status_code,
                    response.content[:300],
                )
                queries.add(len(captured))
            timings.sort()
            p95 = timings[int(len(timings) * 0.95) - 1]
            spread = f"{min(queries)}" if len(queries) == 1 else f"{min(queries)}-{max(queries)}"
            print(
                f"{label:<34}{username:<20}{statistics.median(timings):>9.1f}{p95:>9.1f}{spread:>9}"
            )
    print(f"(incidents in the database: {Incident.objects.count():,})")


if __name__ == "__main__":
    main()
