"""Benchmark of the correlation index (issue 5).

Builds N stored sightings (default 10,000,000) in a fresh database built from the demo
constituency: feed aggregates (one row per value, organization and day) of IPv4 and
IPv6 addresses, domains, URLs (each also under its host) and hashes, some networks, and
1% incident observables (real incidents and observables). Rows go in bulk: COPY on
PostgreSQL, executemany on SQLite, with the index's B-trees built afterwards. Then it
prints:

- one lookup: the index probes of one value (the value, its parent domains, the stored
  networks around an address) and the read of its sightings, p50 / p95 over 2,000
  values (half of them stored); and the same through the visibility-scoped selector a
  page uses (a national analyst), with its query count;
- correlating a batch of 100,000 new values: for each, the organizations and incidents
  that saw it before (its exact key, its parent domains, the stored networks around an
  address, a URL's host), read from the index's counting index; then indexing them as
  a feed run does (aggregated, merged into existing rows, counted, widespread and common
  values flagged).

Targets: lookup p95 under 2 ms, batch under 5 s, on SQLite and PostgreSQL. The peer,
MISP, correlates by exact value in a table of value pairs (one row per pair of events
sharing a value, hence its quadratic growth) and caps a value at 20 correlations; the
script prints how many pair rows MISP's model would hold for the same sightings.

    .venv/bin/python bench/intel.py --sightings 1000000
    .venv/bin/python bench/intel.py --databases postgresql \\
        --database-url postgresql://postgres@127.0.0.1:5432/bench_intel
    .venv/bin/python bench/intel.py --keep /var/tmp/bench-intel  # build once, measure again

PostgreSQL: the database named in --database-url is dropped and created again.
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
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
LOOKUPS = 2_000
BATCH = 100_000
DAY0 = dt.date(2026, 6, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sightings", type=int, default=10_000_000)
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument(
        "--database-url", default="postgresql://postgres@127.0.0.1:5432/bench_intel"
    )
    parser.add_argument(
        "--keep",
        metavar="FOLDER",
        help="build the data once into FOLDER (SQLite) and leave the PostgreSQL database "
        "in place; a later run with the same --keep measures without building again",
    )
    parser.add_argument("--worker", choices=["sqlite", "postgresql"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        run_worker(args.worker, args.sightings)
        return
    print(
        f"certhub correlation benchmark: {args.sightings:,} sightings, {LOOKUPS:,} lookups, "
        f"a batch of {BATCH:,} new values"
    )
    for db in args.databases.split(","):
        with tempfile.TemporaryDirectory(prefix="certhub-bench-intel-") as scratch:
            data_dir = str(Path(args.keep) / db) if args.keep else scratch
            Path(data_dir).mkdir(parents=True, exist_ok=True)
            built = Path(data_dir, "bench-built").exists()
            env = {k: v for k, v in os.environ.items() if not k.startswith("CERTHUB_")} | {
                "CERTHUB_DATA_DIR": data_dir,
                "CERTHUB_DEMO": "1",
                "CERTHUB_REQUIRE_MFA": "false",
                "DJANGO_SETTINGS_MODULE": "certhub.settings",
                "BENCH_KEEP": "1" if args.keep else "",
            }
            if db == "postgresql":
                if not built and not _pg(args.database_url, "reset"):
                    print("postgresql: not reachable, skipped")
                    continue
                env["CERTHUB_DATABASE_URL"] = args.database_url
            try:
                subprocess.run(
                    [sys.executable, __file__, "--worker", db, "--sightings", str(args.sightings)],
                    env=env,
                    check=True,
                    cwd=ROOT,
                )
            finally:
                if db == "postgresql" and not args.keep:
                    _pg(args.database_url, "drop")


def _pg(url: str, action: str) -> bool:
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    server = urlunsplit((parts.scheme, parts.netloc, "/postgres", "", ""))
    statements = [f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"]
    if action == "reset":
        statements.append(f"CREATE DATABASE {name}")
    for sql in statements:
        result = subprocess.run(["psql", server, "-qc", sql], capture_output=True, text=True)
        if result.returncode != 0:
            return False
    return True


# --- The data --------------------------------------------------------------------------


def value_of(number: int) -> tuple[str, str]:
    """The n-th distinct indicator: (observable kind, value), deterministic."""
    kind = number % 20
    if kind < 11:
        a = 0x0A000000 + (number * 2654435761) % 0x5F000000  # 10.0.0.0 .. 104.255.255.255
        return "ipv4", f"{a >> 24}.{(a >> 16) & 255}.{(a >> 8) & 255}.{a & 255}"
    if kind < 13:
        return "ipv6", f"2001:db8:{number % 65536:x}:{(number >> 16) % 65536:x}::{number % 9973:x}"
    if kind < 16:
        return "domain", f"host{number}.c2-{number % 50_000}.example"
    if kind < 18:
        return "url", f"http://c2-{number % 50_000}.example/gate{number}.php"
    if kind < 19:
        return "sha256", f"{number:064x}"
    return "cidr", f"{10 + number % 90}.{(number >> 8) % 256}.{number % 256}.0/24"


def feed_rows(total: int, distinct: int, orgs: list[tuple[int, int]], seed: int) -> Iterator[tuple]:
    """Feed aggregate rows: about three (organization, day) sightings per value."""
    from certhub.incidents.observables import Indicator
    from certhub.intel.correlation import entries_for

    rng = random.Random(seed)
    made = 0
    while made < total:
        number = rng.randrange(distinct)
        kind, value = value_of(number)
        org, sector = orgs[number % len(orgs)] if rng.random() < 0.9 else rng.choice(orgs)
        day = DAY0 + dt.timedelta(days=rng.randrange(180))
        for e in entries_for(Indicator(kind, value)):
            yield (e.hash, e.kind, e.value, e.ip_key, e.prefix_len, None, None, org, sector, day,
                   rng.randint(1, 50))  # fmt: skip
            made += 1


def fill(total: int) -> int:
    """Returns the number of distinct values the data was drawn from."""
    from django.db import connection, transaction
    from django.utils import timezone

    from certhub.incidents.models import Incident, Observable
    from certhub.intel import index, services
    from certhub.intel.models import Sighting
    from certhub.tenancy.models import Organization

    orgs = list(Organization.objects.values_list("pk", "sector_id"))
    distinct = max(total // 3, 1000)
    # The B-trees are built once after the load (as a restore would), not row by row.
    names = [i.name for i in Sighting._meta.indexes]
    with connection.cursor() as cursor:
        for name in names:
            cursor.execute(f"DROP INDEX {name}")
    started = time.perf_counter()
    observables_wanted = min(max(total // 100, 100), 100_000)
    with transaction.atomic():
        written = index.insert_rows(feed_rows(total - observables_wanted, distinct, orgs, seed=5))
        index.note_prefixes([(4, 24)])
    loaded = time.perf_counter() - started
    started = time.perf_counter()
    with connection.schema_editor() as editor:
        for model_index in Sighting._meta.indexes:
            editor.add_index(Sighting, model_index)
    with connection.cursor() as cursor:
        # PostgreSQL: VACUUM sets the visibility map, as autovacuum does after a bulk
        # insert, so counting reads the counting index alone (an index-only scan).
        cursor.execute(
            f"VACUUM ANALYZE {index.TABLE}" if connection.vendor == "postgresql" else "ANALYZE"
        )
    built = time.perf_counter() - started
    # Incidents and their observables (real rows the index points at), indexed through
    # the service as they would have been, one incident at a time: values they share with
    # the feeds get flagged and escalated now, before the measurements.
    started = time.perf_counter()
    rng = random.Random(11)
    org_objects = list(Organization.objects.select_related("responsible_team"))
    now = timezone.now()
    with transaction.atomic():
        incidents = Incident.objects.bulk_create(
            [
                Incident(
                    reference=f"BENCH-2026-{n + 1:06d}",
                    title=f"Benchmark incident {n}",
                    channel="staff",
                    tlp=rng.choice(["GREEN", "AMBER", "AMBER", "AMBER+STRICT"]),
                    reporting_org=(org := rng.choice(org_objects)),
                    handling_team=org.responsible_team,
                    reported_at=now,
                )
                for n in range(max(observables_wanted // 50, 10))
            ],
            batch_size=2000,
        )
        if not incidents[0].pk:
            incidents = list(Incident.objects.filter(reference__startswith="BENCH-"))
        observables = []
        for n in range(observables_wanted):
            kind, value = value_of(rng.randrange(distinct))
            observables.append(
                Observable(incident_id=incidents[n % len(incidents)].pk, kind=kind, value=value)
            )
        Observable.objects.bulk_create(observables, batch_size=5000, ignore_conflicts=True)
    made = list(Observable.objects.values_list("pk", flat=True))
    for i in range(0, len(made), 5_000):
        services.index_observables(observable_ids=made[i : i + 5_000])
    observed = time.perf_counter() - started
    print(
        f"  stored {written:,} feed sightings in {loaded:.1f} s, indexes built in {built:.1f} s, "
        f"{len(made):,} observables indexed in {observed:.1f} s"
    )
    print(f"  {Sighting.objects.count():,} sightings stored")
    return distinct


def percentile(timings: list[float], share: float) -> float:
    ordered = sorted(timings)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def measure(distinct: int) -> None:
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    from certhub.accounts.models import User
    from certhub.incidents.observables import normalise
    from certhub.intel import index, selectors, services
    from certhub.intel.correlation import canonical, probes_for

    rng = random.Random(3)
    values = [value_of(rng.randrange(distinct)) for _ in range(LOOKUPS // 2)]
    values += [value_of(distinct + rng.randrange(distinct)) for _ in range(LOOKUPS // 2)]
    indicators = [normalise(kind, value) for kind, value in values]

    # One lookup: its probes and the read of its sightings (after a warm-up pass, as a
    # running server's page cache would be).
    for indicator in indicators[:200]:
        index.lookup(probes_for(indicator, index.stored_prefixes())[0])
    timings, found = [], 0
    for indicator in indicators:
        t0 = time.perf_counter()
        probes, _range = probes_for(indicator, index.stored_prefixes())
        hits = index.lookup(probes)
        timings.append((time.perf_counter() - t0) * 1000)
        found += bool(hits)
    print(
        f"  one lookup (index):          p50 {statistics.median(timings):6.3f} ms   "
        f"p95 {percentile(timings, 0.95):6.3f} ms   p99 {percentile(timings, 0.99):6.3f} ms"
        f"   ({found:,} of {len(indicators):,} found)"
    )
    user = User.objects.get(username="national.analyst")
    timings, queries = [], set()
    for indicator in indicators[: LOOKUPS // 4] + indicators[-LOOKUPS // 4 :]:
        reset_queries()
        with CaptureQueriesContext(connection) as captured:
            t0 = time.perf_counter()
            selectors.correlate(user, [indicator])
            timings.append((time.perf_counter() - t0) * 1000)
        queries.add(len(captured))
    print(
        f"  one lookup (scoped selector): p50 {statistics.median(timings):6.3f} ms   "
        f"p95 {percentile(timings, 0.95):6.3f} ms   ({min(queries)}-{max(queries)} queries)"
    )

    # A batch of 100,000 new values (a third already stored), as a feed run brings them.
    batch_rng = random.Random(9)
    numbers = [
        batch_rng.randrange(distinct) if n % 3 == 0 else distinct * 2 + n for n in range(BATCH)
    ]
    arriving = [value_of(n) for n in numbers]  # the batch as it arrives (not timed)
    t0, c0 = time.perf_counter(), time.process_time()
    batch = [canonical(kind, value) for kind, value in arriving]
    prefixes = index.stored_prefixes()
    plans = [probes_for(indicator, prefixes)[0] for indicator in batch]
    summaries = index.summaries({p.hash for probes in plans for p in probes})
    seen = 0
    for probes in plans:
        organizations: set[int] = set()
        incidents: set[int] = set()
        for probe in probes:
            summary = summaries.get(probe.hash)
            if summary is not None:
                organizations |= summary.organization_ids
                incidents |= summary.incident_ids
        seen += bool(organizations or incidents)
    correlate_s, correlate_cpu = time.perf_counter() - t0, time.process_time() - c0
    keys = {p.hash for probes in plans for p in probes}
    print(
        f"  batch of {BATCH:,}: correlated in {correlate_s:.2f} s (this process's CPU "
        f"{correlate_cpu:.2f} s; {len(keys):,} keys probed, {len(summaries):,} found; "
        f"{seen:,} values seen before, with their organizations and incidents)"
    )
    from certhub.feeds.models import Event  # noqa: F401 - the row layout indexed below

    t0, c0 = time.perf_counter(), time.process_time()
    from django.db import transaction

    with transaction.atomic():
        rows = []
        for n, indicator in enumerate(batch):
            row: list[Any] = [None] * len(services.FEED_FIELDS)
            position = {"ipv4": 0, "ipv6": 0, "domain": 2, "url": 4}.get(indicator.kind)
            if position is None:
                continue  # feeds carry no hashes or networks
            row[position] = indicator.value
            rows.append((*row, None, None, DAY0 + dt.timedelta(days=n % 7)))
        found_aggregates = services.aggregate_events(rows)
        written, _flagged = services.index_feed_aggregates(found_aggregates)
        # Kept data (--keep) stays as built: the batch is rolled back, not committed.
        kept = bool(os.environ.get("BENCH_KEEP"))
        transaction.set_rollback(kept)
    index_s, index_cpu = time.perf_counter() - t0, time.process_time() - c0
    print(
        f"  batch of {BATCH:,}: indexed in {index_s:.2f} s (CPU {index_cpu:.2f} s; "
        f"{written:,} rows written or grown{'; rolled back' if kept else ''}); "
        f"correlate + index {correlate_s + index_s:.2f} s"
    )
    print(f"  (load average while measuring: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)")


def misp_pairs() -> None:
    """Rows MISP's correlation table would hold: a pair per two sightings of a value."""
    from django.db import connection

    from certhub.intel import index

    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT SUM(c * (c - 1)), SUM(CASE WHEN c > 21 THEN 21 * 20 ELSE c * (c - 1) END) "
            f'FROM (SELECT COUNT(*) AS c FROM {index.TABLE} GROUP BY "key") AS per_value'
        )
        pairs, capped = cursor.fetchone()
    print(
        f"  peer (MISP, exact value only): its correlation table would hold {int(pairs or 0):,} "
        f"pair rows for these sightings ({int(capped or 0):,} with its cap of 20 per value); "
        "certhub stores one row per sighting and matches networks, parent domains and URL hosts"
    )


def run_worker(db: str, total: int) -> None:
    import django

    django.setup()
    from django.core.management import call_command

    built = Path(os.environ["CERTHUB_DATA_DIR"], "bench-built")
    print(f"\n{db}:")
    if built.exists():
        call_command("migrate", verbosity=0)
        distinct = int(built.read_text())
        print(f"  (the data built before, kept with --keep: {distinct:,} distinct values)")
    else:
        call_command("migrate", verbosity=0)
        with open(os.devnull, "w") as quiet:
            call_command("demo", force=True, stdout=quiet)
        distinct = fill(total)
        built.write_text(str(distinct))
    measure(distinct)
    misp_pairs()


if __name__ == "__main__":
    main()
