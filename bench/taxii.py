"""Benchmark: paging a TAXII 2.1 collection with taxii2-client (issue 5).

Makes N STIX 2.1 indicators (default 10,000), stores them in one certhub collection
(bulk-inserted, as sharing would leave them), runs certhub behind gunicorn on a
loopback port, and pages the collection with taxii2-client's ``as_pages`` at P objects
per request (default 1,000), timing the whole walk (the collection look-up included).
Then the same objects go into medallion, the OASIS reference TAXII 2.1 server, with its
memory backend, installed by this script into a virtualenv of its own (PyPI through
pip) and run on another loopback port; the same client pages it the same way. Both
figures are printed, best and median of --runs walks. Target: certhub under 5 s.

    .venv/bin/python bench/taxii.py
    .venv/bin/python bench/taxii.py --objects 10000 --page 1000 --db sqlite,postgresql

PostgreSQL is used at CERTHUB_BENCH_PG (default postgresql://postgres@127.0.0.1:5432/),
in a scratch database certhub_bench_taxii created and dropped by this script.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CERTHUB = [sys.executable, "-m", "certhub"]
PG_SERVER = os.environ.get("CERTHUB_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/")
PG_DB = "certhub_bench_taxii"
MEDALLION_VERSION = "3.0.0"
MEDIA = "application/taxii+json;version=2.1"
USERNAME, PASSWORD = "bench.analyst", "bench-password-taxii"

# Run inside certhub (``certhub shell``): a team, an analyst with a token, the team's
# collection, and the objects from the JSON file bulk-inserted. Prints the token and the
# collection id.
LOAD = """
import datetime as dt, json, sys
from certhub.accounts.models import User
from certhub.accounts.services import create_token
from certhub.intel.exchange_models import Collection, SharedObject
from certhub.tenancy.models import Membership, Team
objects = json.load(open({path!r}))
team = Team.objects.create(slug="bench", name="Bench CERT", kind="national")
user = User.objects.create_user(username={username!r}, password={password!r})
Membership.objects.create(user=user, team=team, role="analyst")
collection = Collection.objects.create(kind="team", team=team, title="Bench indicators")
start = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
SharedObject.objects.bulk_create(
    [
        SharedObject(
            collection=collection, stix_id=o["id"], stix_type=o["type"],
            version=dt.datetime.fromisoformat(o["modified"].replace("Z", "+00:00")),
            date_added=start + dt.timedelta(milliseconds=n), tlp="GREEN", body=o,
        )
        for n, o in enumerate(objects)
    ],
    batch_size=2000,
)
print(json.dumps([create_token(actor=user, user=user, name="bench")[1], str(collection.pk)]))
"""


def make_objects(count: int) -> list[dict[str, Any]]:
    """``count`` STIX 2.1 indicators on distinct addresses (ids derived from n)."""
    objects = []
    for n in range(count):
        digest = hashlib.sha256(f"bench-{n}".encode()).hexdigest()
        parts = (digest[:8], digest[8:12], "4" + digest[13:16], "8" + digest[17:20], digest[20:32])
        stix_id = "indicator--" + "-".join(parts)
        address = f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}"
        stamp = "2026-11-01T00:00:00.000Z"
        objects.append(
            {
                "type": "indicator",
                "spec_version": "2.1",
                "id": stix_id,
                "created": stamp,
                "modified": stamp,
                "name": f"C2 address {n}",
                "indicator_types": ["malicious-activity"],
                "pattern": f"[ipv4-addr:value = '{address}']",
                "pattern_type": "stix",
                "valid_from": "2026-11-01T00:00:00Z",
                "object_marking_refs": ["marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"],
            }
        )
    return objects


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(url: str, auth: tuple[str, str], process: subprocess.Popen[bytes]) -> None:
    import base64

    token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
    request = urllib.request.Request(
        url, headers={"Accept": MEDIA, "Authorization": f"Basic {token}"}
    )
    for _ in range(300):
        if process.poll() is not None:
            raise SystemExit(f"the server at {url} exited with {process.returncode}")
        try:
            with urllib.request.urlopen(request, timeout=2):
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.1)
    raise SystemExit(f"the server at {url} did not answer")


def walk(
    collection_url: str, auth: tuple[str, str], page: int, runs: int, cap: float = 0
) -> dict[str, Any]:
    """Page the whole collection ``runs`` times with taxii2-client; seconds per walk.
    With ``cap``, a walk still running after that many seconds is abandoned, and what it
    had fetched by then is reported (``stopped``)."""
    import threading

    from taxii2client.v21 import Collection, as_pages

    seconds: list[float] = []
    progress = {"objects": 0, "pages": 0, "first_page": 0.0}
    for _ in range(runs):
        progress.update(objects=0, pages=0, first_page=0.0)
        started = time.perf_counter()

        def run(started: float = started) -> None:
            collection = Collection(collection_url, user=auth[0], password=auth[1])
            try:
                for envelope in as_pages(collection.get_objects, per_request=page):
                    progress["objects"] += len(envelope.get("objects", []))
                    progress["pages"] += 1
                    if progress["pages"] == 1:
                        progress["first_page"] = time.perf_counter() - started
            except Exception:  # the server was stopped under an abandoned walk
                return

        worker = threading.Thread(target=run, daemon=True)
        worker.start()
        worker.join(cap or None)
        if worker.is_alive():
            return {"stopped": time.perf_counter() - started, **progress}
        seconds.append(time.perf_counter() - started)
    return {
        "best": min(seconds),
        "median": statistics.median(seconds),
        "counts": (progress["objects"], progress["pages"]),
    }


def describe(result: dict[str, Any]) -> str:
    if "stopped" in result:
        first = (
            f"the first page after {result['first_page']:.1f} s"
            if result["pages"]
            else "no page yet"
        )
        return (
            f"stopped after {result['stopped']:.0f} s with {result['objects']:,} objects in "
            f"{result['pages']} pages ({first})"
        )
    total, pages = result["counts"]
    return (
        f"{total:,} objects in {pages} pages: best {result['best']:.2f} s, "
        f"median {result['median']:.2f} s ({total / result['best']:,.0f} objects/s)"
    )


def _psql(sql: str) -> bool:
    result = subprocess.run(
        ["psql", PG_SERVER + "postgres", "-qc", sql], capture_output=True, text=True
    )
    return result.returncode == 0


def run_certhub(db: str, objects_file: Path, page: int, runs: int) -> str:
    with tempfile.TemporaryDirectory(prefix="certhub-bench-taxii-") as data_dir:
        env = {
            **os.environ,
            "CERTHUB_DATA_DIR": data_dir,
            "CERTHUB_HTTPS": "false",
            "CERTHUB_REQUIRE_MFA": "false",
            "DJANGO_SETTINGS_MODULE": "certhub.settings",
        }
        if db == "postgresql":
            _psql(f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)")
            if not _psql(f"CREATE DATABASE {PG_DB}"):
                return "not run (PostgreSQL is not reachable)"
            env["CERTHUB_DATABASE_URL"] = PG_SERVER + PG_DB
        server = None
        try:
            subprocess.run([*CERTHUB, "migrate", "-v", "0"], env=env, check=True)
            code = LOAD.format(path=str(objects_file), username=USERNAME, password=PASSWORD)
            started = time.perf_counter()
            out = subprocess.run(
                [*CERTHUB, "shell", "--no-imports", "-c", code],
                env=env,
                check=True,
                capture_output=True,
                text=True,
            )
            loaded = time.perf_counter() - started
            token, collection_id = json.loads(out.stdout.strip().splitlines()[-1])
            port = free_port()
            gunicorn = Path(sys.executable).parent / "gunicorn"
            server = subprocess.Popen(
                [str(gunicorn), "certhub.wsgi", "-b", f"127.0.0.1:{port}", "--workers", "1"],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            base = f"http://127.0.0.1:{port}/taxii2/"
            auth = (USERNAME, token)  # HTTP Basic with an API token as the password
            wait_for(base, auth, server)
            result = walk(f"{base}api/collections/{collection_id}/", auth, page, runs)
            return f"{describe(result)}; stored in {loaded:.1f} s"
        finally:
            if server is not None:
                server.terminate()
                server.wait(timeout=20)
            if db == "postgresql":
                _psql(f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)")


def medallion_venv(work: Path) -> Path:
    """medallion in a virtualenv of its own, made once (PyPI through pip)."""
    venv = work / f"medallion-{MEDALLION_VERSION}"
    python = venv / "bin" / "python"
    marker = venv / ".installed"
    if not marker.exists():
        if not python.exists():
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", f"medallion=={MEDALLION_VERSION}"],
            check=True,
            capture_output=True,
        )
        marker.touch()
    return venv


def run_medallion(
    work: Path, objects: list[dict[str, Any]], page: int, runs: int, cap: float
) -> str:
    try:
        venv = medallion_venv(work)
    except (subprocess.CalledProcessError, OSError) as exc:
        return f"not run (could not install medallion {MEDALLION_VERSION}: {exc})"
    port = free_port()
    root = f"http://127.0.0.1:{port}/bench/"
    collection_id = "91a7b528-80eb-42ed-a74d-c6fbd5a26116"
    start = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    manifest = [
        {
            "id": o["id"],
            "date_added": (start + dt.timedelta(milliseconds=n))
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "version": o["modified"],
            "media_type": "application/stix+json;version=2.1",
        }
        for n, o in enumerate(objects)
    ]
    data = {
        "/discovery": {
            "title": "medallion bench",
            "default": root,
            "api_roots": [root],
        },
        "bench": {
            "information": {
                "title": "bench",
                "versions": [MEDIA],
                "max_content_length": 104857600,
            },
            "status": [],
            "collections": [
                {
                    "id": collection_id,
                    "title": "Bench indicators",
                    "can_read": True,
                    "can_write": False,
                    "media_types": ["application/stix+json;version=2.1"],
                    "objects": objects,
                    "manifest": manifest,
                }
            ],
        },
    }
    scratch = work / "medallion-run"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    (scratch / "data.json").write_text(json.dumps(data))
    config = {
        "backend": {
            "module": "medallion.backends.memory_backend",
            "module_class": "MemoryBackend",
            "filename": str(scratch / "data.json"),
        },
        "users": {USERNAME: PASSWORD},
        "taxii": {"max_page_size": page},
    }
    (scratch / "config.json").write_text(json.dumps(config))
    server = subprocess.Popen(
        [str(venv / "bin" / "medallion"), "--port", str(port), str(scratch / "config.json")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(f"http://127.0.0.1:{port}/taxii2/", (USERNAME, PASSWORD), server)
        url = f"{root}collections/{collection_id}/"
        result = walk(url, (USERNAME, PASSWORD), page, runs, cap=cap)
    finally:
        server.terminate()
        server.wait(timeout=20)
    return describe(result)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=10_000)
    parser.add_argument("--page", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--db", default="sqlite")
    parser.add_argument("--work", default=str(Path(tempfile.gettempdir()) / "certhub-bench-taxii"))
    parser.add_argument("--no-medallion", action="store_true")
    parser.add_argument(
        "--medallion-cap",
        type=float,
        default=300,
        help="give up a medallion walk after this many seconds (its memory backend filters "
        "every page against the whole manifest, so it slows down with the square of N)",
    )
    parser.add_argument(
        "--medallion-also",
        default="1000,2000",
        help="also page medallion on the first N objects, for these N (comma-separated)",
    )
    args = parser.parse_args()
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    objects = make_objects(args.objects)
    objects_file = work / f"objects-{args.objects}.json"
    objects_file.write_text(json.dumps(objects))
    print(
        f"TAXII 2.1 paging benchmark: {args.objects:,} indicators, {args.page:,} per page, "
        f"taxii2-client as_pages, {args.runs} walks each (target: certhub under 5 s)"
    )
    for db in args.db.split(","):
        outcome = run_certhub(db, objects_file, args.page, args.runs)
        print(f"  certhub ({db}, gunicorn, 1 worker): {outcome}")
    if args.no_medallion:
        print("  medallion: not run (--no-medallion)")
        return
    outcome = run_medallion(work, objects, args.page, args.runs, args.medallion_cap)
    print(f"  medallion {MEDALLION_VERSION} (memory backend, Flask server): {outcome}")
    # How medallion's time grows with N, on the first objects of the same set.
    for size in [int(n) for n in args.medallion_also.split(",") if n.strip()]:
        if size < len(objects):
            outcome = run_medallion(work, objects[:size], args.page, 1, args.medallion_cap)
            print(f"  medallion on the first {size:,} of them: {outcome}")


if __name__ == "__main__":
    main()
