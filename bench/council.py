"""Benchmark: the CERT Council's register and the CII registry at national scale.

Fills, on top of the demo constituency, 20,000 recommendations (a third addressed to
CERTs, each with two follow-ups) and 5,000 designated CII organizations (each with a
designation and five grade changes), bulk-inserted, then times through Django's test
client (the whole request path):

- the register page        GET /council/recommendations/              (council.member)
- the register API         GET /api/v1/council/recommendations?limit=50
- a recommendation         GET /api/v1/council/recommendations/<id>
- an addressed CERT's view GET /api/v1/council/recommendations       (banking.coordinator)
- the CII registry page    GET /directory/cii/                         (national.coordinator)
- the CII registry API     GET /api/v1/cii/organizations?limit=50
- a CII record             GET /api/v1/cii/organizations/<slug>

and prints p50 / p95 in milliseconds and the SQL queries each takes (which must not
grow with the data), then the daily reminder pass over 5,000 designations: the first
run (queueing the due and overdue reminders) and the second (everything deduplicated).
There is no peer product with a Council register or a CII registry to compare with;
the target is the issue's 300 ms for any page. Run from the repository root:

    .venv/bin/python bench/council.py [--recommendations 20000] [--cii 5000]
        [--db sqlite,postgresql]

PostgreSQL is used at CERTHUB_BENCH_PG (default postgresql://postgres@127.0.0.1:5432/),
in a scratch database `certhub_bench_council` created and dropped by this script.
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
PG_DB = "certhub_bench_council"
RUNS = 40


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recommendations", type=int, default=20_000)
    parser.add_argument("--cii", type=int, default=5_000)
    parser.add_argument("--db", default="sqlite,postgresql")
    parser.add_argument("--worker", choices=["sqlite", "postgresql"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        run_worker(args.worker, args.recommendations, args.cii)
        return
    print(
        f"certhub Council and CII benchmark: {args.recommendations:,} recommendations, "
        f"{args.cii:,} CII organizations, {RUNS} requests per figure"
    )
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
                    [
                        sys.executable,
                        __file__,
                        "--worker",
                        db,
                        "--recommendations",
                        str(args.recommendations),
                        "--cii",
                        str(args.cii),
                    ],
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


def run_worker(db: str, recommendations: int, cii: int) -> None:
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    with open(os.devnull, "w") as quiet:
        call_command("demo", force=True, stdout=quiet)
    started = time.perf_counter()
    fill(recommendations, cii)
    print(
        f"\n{db}: filled {recommendations:,} recommendations and {cii:,} CII organizations "
        f"in {time.perf_counter() - started:.1f} s"
    )
    measure()
    remind()


def fill(total: int, cii: int) -> None:
    import datetime as dt

    from django.db import transaction
    from django.utils import timezone

    from certhub.awareness.council_models import Recommendation, RecommendationFollowUp
    from certhub.tenancy.models import (
        CIIDesignation,
        CIIGradeChange,
        Organization,
        Sector,
        Team,
    )

    rng = random.Random(42)
    now = timezone.now()
    today = now.date()
    teams = list(Team.objects.all())
    statuses = ["open", "in_progress", "implemented", "rejected", "withdrawn"]
    through = Recommendation.addressed_teams.through
    with transaction.atomic():
        rows = [
            Recommendation(
                reference=f"BENCH-{n:06d}",
                kind="cert_notification" if n % 3 == 0 else "general",
                title=f"Recommendation {n} on national cyber readiness",
                text="The Council recommends measures to improve readiness. " * 5,
                owner=rng.choice(["Ministry of IT", "National CERT", "Ministry of Finance"]),
                status=rng.choice(statuses),
                due_date=today + dt.timedelta(days=rng.randint(-200, 400)),
            )
            for n in range(total)
        ]
        created = Recommendation.objects.bulk_create(rows, batch_size=2000)
        if not created[0].pk:
            created = list(Recommendation.objects.filter(reference__startswith="BENCH-"))
        through.objects.bulk_create(
            [
                through(recommendation_id=rec.pk, team_id=team.pk)
                for rec in created
                if rec.kind == "cert_notification"
                for team in rng.sample(teams, 2)
            ],
            batch_size=4000,
        )
        RecommendationFollowUp.objects.bulk_create(
            [
                RecommendationFollowUp(
                    recommendation_id=rec.pk,
                    recorded_at=now - dt.timedelta(days=k * 30),
                    text="Progress reported to the Council.",
                    status_before="open",
                    status_after=rec.status,
                )
                for rec in created
                for k in range(2)
            ],
            batch_size=4000,
        )
        sectors = list(Sector.objects.all())
        orgs = Organization.objects.bulk_create(
            [
                Organization(
                    slug=f"bench-cii-{n:05d}",
                    name=f"Bench CII operator {n}",
                    sector=rng.choice(sectors),
                    responsible_team=rng.choice(teams),
                    is_cii=True,
                    cii_grade=rng.choice("123"),
                    cii_review_date=today + dt.timedelta(days=rng.randint(-60, 365)),
                )
                for n in range(cii)
            ],
            batch_size=2000,
        )
        if not orgs[0].pk:
            orgs = list(Organization.objects.filter(slug__startswith="bench-cii-"))
        CIIDesignation.objects.bulk_create(
            [
                CIIDesignation(
                    organization_id=org.pk,
                    authority="Ministry of Energy",
                    designated_on=today - dt.timedelta(days=400),
                )
                for org in orgs
            ],
            batch_size=4000,
        )
        CIIGradeChange.objects.bulk_create(
            [
                CIIGradeChange(
                    organization_id=org.pk,
                    changed_at=now - dt.timedelta(days=k * 60),
                    old_grade=rng.choice("123"),
                    new_grade=org.cii_grade,
                    method="set",
                    reason="Reassessed.",
                )
                for org in orgs
                for k in range(5)
            ],
            batch_size=4000,
        )


def measure() -> None:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from certhub.accounts.models import User
    from certhub.awareness.council_models import Recommendation
    from certhub.tenancy.models import Organization

    rec_ids = list(Recommendation.objects.order_by("?").values_list("pk", flat=True)[:RUNS])
    slugs = list(
        Organization.objects.filter(is_cii=True).order_by("?").values_list("slug", flat=True)[:RUNS]
    )
    recs = "/api/v1/council/recommendations"
    cii = "/api/v1/cii/organizations"
    member, banking, national = "council.member", "banking.coordinator", "national.coordinator"
    cases = [
        (member, "register page", lambda i: "/council/recommendations/"),
        (member, "register API ?limit=50", lambda i: f"{recs}?limit=50"),
        (member, "recommendation API", lambda i: f"{recs}/{rec_ids[i % len(rec_ids)]}"),
        (banking, "addressed CERT API ?limit=50", lambda i: f"{recs}?limit=50"),
        (national, "CII registry page", lambda i: "/directory/cii/"),
        (national, "CII registry API ?limit=50", lambda i: f"{cii}?limit=50"),
        (national, "CII record API", lambda i: f"{cii}/{slugs[i % len(slugs)]}"),
    ]
    print(f"{'request':<32}{'user':<22}{'p50 ms':>9}{'p95 ms':>9}{'queries':>9}")
    clients: dict[str, Client] = {}
    for username, label, url_for in cases:
        if username not in clients:
            clients[username] = Client(HTTP_HOST="127.0.0.1")
            clients[username].force_login(User.objects.get(username=username))
        client = clients[username]
        timings, queries = [], set()
        for i in range(RUNS):
            url = url_for(i)
            with CaptureQueriesContext(connection) as captured:
                t0 = time.perf_counter()
                response = client.get(url)
                timings.append((time.perf_counter() - t0) * 1000)
            assert response.status_code == 200, (url, response.status_code)
            queries.add(len(captured))
        timings.sort()
        p95 = timings[int(len(timings) * 0.95) - 1]
        spread = f"{min(queries)}" if len(queries) == 1 else f"{min(queries)}-{max(queries)}"
        print(f"{label:<32}{username:<22}{statistics.median(timings):>9.1f}{p95:>9.1f}{spread:>9}")


def remind() -> None:
    from certhub.awareness.council_services import send_cii_review_reminders

    t0 = time.perf_counter()
    first = send_cii_review_reminders()
    first_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    second = send_cii_review_reminders()
    second_s = time.perf_counter() - t0
    print(
        f"CII reminder pass: first {first_s:.2f} s ({first.upcoming} due soon, "
        f"{first.overdue} overdue queued); again {second_s:.2f} s "
        f"({second.upcoming + second.overdue} queued: deduplicated)"
    )


if __name__ == "__main__":
    main()
