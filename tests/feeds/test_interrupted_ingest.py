"""An ingest killed part way leaves nothing behind, and running it again loads every row
exactly once: the same events as an ingest that was never interrupted. Real processes,
a real SIGKILL, on the database the suite runs on (SQLite file or PostgreSQL)."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from django.conf import settings

from certhub.feeds.parsers import csv_text
from certhub.feeds.reports import REPORT_TYPES

CERTHUB = [sys.executable, "-m", "certhub"]
DUMP = """
import json
from certhub.feeds.models import Event, IngestRun
skip = {"id", "time_observation", "file_id"}
rows = [
    {k: str(v) for k, v in row.items() if k not in skip}
    for row in Event.objects.order_by("line").values()
]
runs = list(IngestRun.objects.values_list("status", "rows", "accepted", "duplicates", "rejected"))
print(json.dumps({"events": rows, "runs": runs}))
"""


def big_report(path: Path, rows: int) -> None:
    rng = random.Random(7)
    columns = list(REPORT_TYPES["scan_http"].columns)
    body = [columns]
    for i in range(rows):
        ip = (
            f"192.0.2.{rng.randrange(256)}"
            if i % 3
            else f"100.{64 + rng.randrange(64)}.{rng.randrange(256)}.{rng.randrange(256)}"
        )
        row = dict.fromkeys(columns, "")
        row |= {
            "timestamp": f"2026-11-27 {i % 24:02d}:{i % 60:02d}:00",
            "ip": ip,
            "port": str(80 + i % 3),
            "http_code": "200",
        }
        body.append([row[c] for c in columns])
    path.write_text(csv_text(body))


CREATED: list[str] = []


@pytest.fixture(autouse=True)
def _drop_scratch_databases() -> Iterator[None]:
    yield
    db = settings.DATABASES["default"]
    while CREATED:
        with psycopg.connect(
            host=db["HOST"],
            port=db["PORT"] or 5432,
            user=db["USER"],
            dbname="postgres",
            autocommit=True,
        ) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{CREATED.pop()}" WITH (FORCE)')


def environment(tmp_path: Path, name: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CERTHUB_")}
    env["CERTHUB_DATA_DIR"] = str(tmp_path / name)
    env["CERTHUB_SECRET_KEY"] = "interrupted-ingest-test"
    if settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
        db = settings.DATABASES["default"]
        database = f"feeds_kill_{name}_{os.getpid()}"
        with psycopg.connect(
            host=db["HOST"],
            port=db["PORT"] or 5432,
            user=db["USER"],
            dbname="postgres",
            autocommit=True,
        ) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{database}"')
            admin.execute(f'CREATE DATABASE "{database}"')
        CREATED.append(database)
        env["CERTHUB_DATABASE_URL"] = (
            f"postgresql://{db['USER']}@{db['HOST']}:{db['PORT'] or 5432}/{database}"
        )
    subprocess.run([*CERTHUB, "migrate", "-v", "0"], env=env, check=True)
    return env


def dump(env: dict[str, str]) -> dict[str, object]:
    out = subprocess.run(
        [*CERTHUB, "shell", "--no-imports", "-c", DUMP],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def ingest(env: dict[str, str], path: Path) -> None:
    subprocess.run(
        [*CERTHUB, "feeds", "ingest", str(path), "--json", "--chunk-rows", "5000"],
        env=env,
        check=True,
        capture_output=True,
    )


def test_a_killed_ingest_leaves_nothing_and_a_rerun_loads_everything_once(tmp_path: Path) -> None:
    report = tmp_path / "2026-11-27-scan_http-big.csv"
    big_report(report, 60_000)
    interrupted, clean = environment(tmp_path, "a"), environment(tmp_path, "b")

    process = subprocess.Popen(
        [*CERTHUB, "feeds", "-v", "2", "ingest", str(report), "--chunk-rows", "5000"],
        env=interrupted,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    assert process.stderr is not None
    stored_chunks = 0
    deadline = time.monotonic() + 120
    while stored_chunks < 2 and time.monotonic() < deadline:
        line = process.stderr.readline()
        if not line:
            break
        stored_chunks += "rows stored" in line
    assert stored_chunks == 2, "the ingest should be part way when it is killed"
    process.send_signal(signal.SIGKILL)
    process.wait()

    after_kill = dump(interrupted)
    assert after_kill == {"events": [], "runs": []}

    ingest(interrupted, report)
    ingest(clean, report)
    rerun, uninterrupted = dump(interrupted), dump(clean)
    assert (
        rerun["runs"]
        == uninterrupted["runs"]
        == [["done", 60_000, rerun["runs"][0][2], 60_000 - rerun["runs"][0][2], 0]]
    )
    assert rerun["events"] == uninterrupted["events"]
    assert len(rerun["events"]) == rerun["runs"][0][2]
