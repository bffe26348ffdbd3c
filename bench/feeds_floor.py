"""The floor under issue 4's SQLite target: what storing a feed event costs SQLite alone.

The target is 150,000 rows/s end to end on SQLite (6.7 µs of CPU per row on this 2-core
machine, parse, enrich, route, dedup and store together), with events stored in the main
database with a unique identity key and indexes by organization and day, team and day,
classification and day, and IP (the issue's item 5). This script measures the store alone,
without certhub: rows built in advance, handed to SQLite by ``executemany`` in batches of
10,000 in one transaction (the fastest way Python's sqlite3 has), into

- the events table as certhub's migrations create it (its DDL is read from a freshly
  migrated database), with foreign keys on and off;
- a narrow event of 16 columns (what an index over the stored report files would keep)
  with the same unique key and the same four indexes;
- each table without its indexes.

It prints CPU µs per row of each. Run from the repository root:

    .venv/bin/python bench/feeds_floor.py [--rows 300000]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUDGET_US = 1_000_000 / 150_000

NARROW = """
CREATE TABLE feeds_event (id integer PRIMARY KEY, file_id bigint NOT NULL,
  line integer NOT NULL, day date NOT NULL, count integer NOT NULL,
  last_seen datetime NOT NULL, classification_taxonomy varchar(50) NOT NULL,
  classification_type varchar(50) NOT NULL, classification_identifier varchar(200) NOT NULL,
  source_ip_key varchar(32), source_port integer, source_asn bigint,
  organization_id bigint, sector_id bigint, team_id bigint, identity_hash bigint NOT NULL,
  UNIQUE (day, identity_hash));
CREATE INDEX narrow_org_day ON feeds_event (organization_id, day);
CREATE INDEX narrow_team_day ON feeds_event (team_id, day);
CREATE INDEX narrow_class_day ON feeds_event
  (classification_taxonomy, classification_type, day);
CREATE INDEX narrow_ip ON feeds_event (source_ip_key);
"""


def certhub_ddl(folder: str) -> str:
    """The events table and its indexes as certhub's migrations create them."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CERTHUB_")}
    env |= {"CERTHUB_DATA_DIR": folder, "DJANGO_SETTINGS_MODULE": "certhub.settings"}
    subprocess.run(
        [sys.executable, "-m", "certhub", "migrate", "--verbosity", "0"],
        env=env,
        check=True,
        cwd=ROOT,
    )
    db = sqlite3.connect(Path(folder) / "certhub.sqlite3")
    statements = [
        row[0]
        for row in db.execute(
            "SELECT sql FROM sqlite_master WHERE tbl_name = 'feeds_event' AND sql IS NOT NULL "
            "ORDER BY type DESC"  # the table, then its indexes
        )
    ]
    db.close()
    return ";\n".join(statements) + ";\n"


def wide_rows(count: int) -> list[tuple[object, ...]]:
    """Rows of a day's scan_http report as certhub stores them (49 columns)."""
    rng = random.Random(1)
    rows = []
    for n in range(count):
        org = rng.randrange(1, 200) if rng.random() < 0.8 else None
        ip = ".".join(str(rng.randrange(1, 255)) for _ in range(4))
        rows.append(
            (n + 1, n + 2, "2026-11-27", 1, "2026-11-27 01:02:03", "2026-11-27 01:02:03",
             "2026-11-27 05:00:00", "Shadowserver Scan-HTTP", "scan_http", "vulnerable",
             "vulnerable-system", "http", "medium", ip, f"{rng.getrandbits(128):032x}", None,
             80, 64512, "AS name", None, None, None, None, "PK", None, None, None, None, None,
             None, None, None, None, None, "tcp", "http", None, None, None, None, None,
             json.dumps({"http_code": 200}), 0, "cidr" if org else None, org,
             org % 10 + 1 if org else None, org % 5 + 1 if org else None, 1,
             rng.getrandbits(63))
        )  # fmt: skip
    return rows


def narrow(rows: list[tuple[object, ...]]) -> list[tuple[object, ...]]:
    picked = (0, 1, 2, 3, 5, 9, 10, 11, 14, 16, 17, 44, 45, 46, 48)
    return [(row[0], 1, *(row[i] for i in picked[1:])) for row in rows]


def per_row_us(ddl: str, rows: list[tuple[object, ...]], *, foreign_keys: bool) -> float:
    with tempfile.TemporaryDirectory(prefix="certhub-floor-") as folder:
        db = sqlite3.connect(Path(folder) / "floor.sqlite3", isolation_level=None)
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "cache_size=-131072"):
            db.execute(f"PRAGMA {pragma}")
        for table in ("tenancy_organization", "tenancy_sector", "tenancy_team"):
            db.execute(f"CREATE TABLE {table} (id integer PRIMARY KEY)")
            db.executemany(f"INSERT INTO {table} VALUES (?)", [(i,) for i in range(1, 300)])
        db.execute("CREATE TABLE feeds_reportfile (id integer PRIMARY KEY)")
        db.execute("INSERT INTO feeds_reportfile VALUES (1)")
        db.executescript(ddl)
        db.execute(f"PRAGMA foreign_keys={'ON' if foreign_keys else 'OFF'}")
        sql = f"INSERT INTO feeds_event VALUES ({', '.join('?' * len(rows[0]))})"
        started = time.process_time()
        db.execute("BEGIN")
        for start in range(0, len(rows), 10_000):
            db.executemany(sql, rows[start : start + 10_000])
        db.execute("COMMIT")
        spent = time.process_time() - started
        db.close()
    return spent / len(rows) * 1e6


def without_indexes(ddl: str) -> str:
    kept = [s for s in ddl.split(";") if "CREATE INDEX" not in s and "CREATE UNIQUE" not in s]
    table = ";".join(kept)
    for unique in (
        ', CONSTRAINT "feeds_event_identity_hash" UNIQUE ("day", "identity_hash")',
        ",\n  UNIQUE (day, identity_hash)",
    ):
        table = table.replace(unique, "")
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=300_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="certhub-floor-ddl-") as folder:
        ddl = certhub_ddl(folder)
    rows = wide_rows(args.rows)
    thin = narrow(rows)
    print(
        f"SQLite {sqlite3.sqlite_version}, {args.rows:,} rows built in advance, executemany "
        f"in one transaction; the target's whole budget is {BUDGET_US:.1f} µs of CPU per row"
    )
    cases = [
        ("events table as migrated, foreign keys on", ddl, rows, True),
        ("events table as migrated, foreign keys off", ddl, rows, False),
        ("events table without its indexes", without_indexes(ddl), rows, False),
        ("narrow event (16 columns), unique key + 4 indexes", NARROW, thin, False),
        ("narrow event (16 columns) without indexes", without_indexes(NARROW), thin, False),
    ]
    for label, schema, data, foreign_keys in cases:
        cost = per_row_us(schema, data, foreign_keys=foreign_keys)
        print(f"  {label:52} {cost:5.1f} µs/row  ({1e6 / cost:>9,.0f} rows/s, store alone)")
    print(f"  (load average: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)")


if __name__ == "__main__":
    main()
