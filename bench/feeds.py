"""Benchmark of the bulk event pipeline (issue 4).

Generates realistic Shadowserver report files of N rows in all (scan_http, scan_rdp,
scan_dns, event4_sinkhole; addresses spread over the demo organizations' networks plus
unrouted space; 2% same-day re-sightings), then runs certhub's full ingest (parse,
enrich, route, dedup, store) in a subprocess on SQLite and on PostgreSQL, and prints
rows/s and the ingest process's peak memory (ru_maxrss).

    .venv/bin/python bench/feeds.py --rows 1000000
    .venv/bin/python bench/feeds.py --rows 1000000 --extra-cidrs 100000
    .venv/bin/python bench/feeds.py --rows 5000000 --databases sqlite

PostgreSQL: --postgres-url (default postgresql://postgres@127.0.0.1:5432/postgres); a
scratch database bench_feeds is created and dropped. The IntelMQ comparison (IntelMQ
in its own virtualenv) needs network access to install IntelMQ; it is not run here.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import ipaddress
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from certhub.feeds.reports import REPORT_TYPES  # noqa: E402

CERTHUB = [sys.executable, "-m", "certhub"]
# Report type -> share of the rows.
MIX = {"scan_http": 0.4, "scan_rdp": 0.2, "scan_dns": 0.2, "event4_sinkhole": 0.2}
UNROUTED_SHARE = 0.25
RESIGHTING_SHARE = 0.02
DAY = "2026-11-27"

ASSETS = """
import json
from certhub.tenancy.models import Asset
print(json.dumps(list(Asset.objects.filter(kind="cidr").values_list("value", flat=True))))
"""

EXTRA_CIDRS = """
import ipaddress, sys
from certhub.tenancy.models import Asset, Organization
from certhub.tenancy.assets import normalise_cidr
count = int(sys.argv[-1]) if sys.argv[-1].isdigit() else {count}
org = Organization.objects.order_by("pk").first()
rows, seen = [], 0
# /24s in 10.0.0.0/8, and /28s nested inside some of them (an ISP and its customers).
nets = [f"10.{{i // 256}}.{{i % 256}}.0/24" for i in range(min(count, 65536))]
nets += [
    f"10.{{(i // 16) // 256}}.{{(i // 16) % 256}}.{{(i % 16) * 16}}/28"
    for i in range(count - len(nets))
]
for text in nets:
    n = normalise_cidr(text)
    rows.append(Asset(organization=org, kind="cidr", value=n.value, ip_version=n.ip_version,
                      prefix_len=n.prefix_len, range_start=n.range_start, range_end=n.range_end))
Asset.objects.bulk_create(rows, batch_size=5000)
print(len(rows))
"""


def generate(folder: Path, rows: int, networks: list[str], seed: int = 4) -> list[Path]:
    """Write the report files (cached by row count: the same files for every run)."""
    marker = folder / f".complete-{rows}"
    if marker.exists():
        return sorted(folder.glob("*.csv"))
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    rng = random.Random(seed)
    ranges = [ipaddress.ip_network(n) for n in networks if ipaddress.ip_network(n).version == 4]
    unrouted = [ipaddress.ip_network("172.16.0.0/12"), ipaddress.ip_network("45.0.0.0/8")]
    paths = []
    for code, share in MIX.items():
        report = REPORT_TYPES[code]
        columns = list(report.columns)
        count = int(rows * share)
        path = folder / f"{DAY}-{code}-pk-geo.csv"
        seen: list[tuple[str, str]] = []
        with path.open("w", newline="") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(columns)
            for i in range(count):
                if seen and rng.random() < RESIGHTING_SHARE:
                    ip, port = seen[rng.randrange(len(seen))]
                else:
                    pool = unrouted if rng.random() < UNROUTED_SHARE else ranges
                    net = pool[rng.randrange(len(pool))]
                    ip = str(net.network_address + rng.randrange(net.num_addresses))
                    # Any port: the demo's IPv4 space is small (~5,400 addresses), and the
                    # dedup key is (feed, identifier, address, port).
                    port = str(1 + rng.randrange(65535))
                    if len(seen) < 100_000:
                        seen.append((ip, port))
                hour = i * 24 // max(count, 1)
                stamp = f"{DAY} {hour:02d}:{rng.randrange(60):02d}:{rng.randrange(60):02d}"
                writer.writerow(row_for(code, columns, stamp, ip, port, rng))
        paths.append(path)
    marker.touch()
    return paths


def row_for(
    code: str, columns: list[str], stamp: str, ip: str, port: str, rng: random.Random
) -> list[str]:
    values = {
        "timestamp": stamp,
        "severity": "medium",
        "geo": "PK",
        "region": "PUNJAB",
        "city": "LAHORE",
    }
    if code.startswith("event4"):
        values |= {
            "src_ip": ip,
            "src_port": port,
            "src_asn": str(65100 + rng.randrange(100)),
            "src_geo": "PK",
            "protocol": "tcp",
            "dst_ip": "100.64.9.9",
            "dst_port": "443",
            "infection": rng.choice(("andromeda", "conficker", "mirai", "qsnatch")),
            "public_source": "Shadowserver",
            "family": "botnet",
            "tag": "sinkhole",
        }
    else:
        values |= {
            "ip": ip,
            "port": port,
            "protocol": "tcp",
            "asn": str(65100 + rng.randrange(100)),
            "hostname": f"h{rng.randrange(10**6)}.example",
            "naics": "517311",
            "tag": code.removeprefix("scan_"),
        }
        if code == "scan_http":
            values |= {
                "http": "HTTP/1.1",
                "http_code": "200",
                "http_reason": "OK",
                "content_type": "text/html",
                "server": "nginx/1.18.0",
                "content_length": "612",
            }
        elif code == "scan_rdp":
            values |= {
                "rdp_protocol": "RDP",
                "cert_length": "2048",
                "subject_common_name": f"HOST-{rng.randrange(9999)}",
            }
        elif code == "scan_dns":
            values |= {"protocol": "udp", "dns_version": "9.11.4", "min_amplification": "41.5"}
    return [values.get(c, "") for c in columns]


def prepare(env: dict[str, str], extra_cidrs: int) -> None:
    subprocess.run([*CERTHUB, "migrate", "-v", "0"], env=env, check=True)
    subprocess.run([*CERTHUB, "demo", "--force"], env=env, check=True, stdout=subprocess.DEVNULL)
    if extra_cidrs:
        code = EXTRA_CIDRS.format(count=extra_cidrs)
        subprocess.run(
            [*CERTHUB, "shell", "--no-imports", "-c", code],
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )


def demo_networks(env: dict[str, str]) -> list[str]:
    out = subprocess.run(
        [*CERTHUB, "shell", "--no-imports", "-c", ASSETS],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def measure(env: dict[str, str], folder: Path) -> dict[str, float]:
    started = time.perf_counter()
    process = subprocess.Popen(
        [*CERTHUB, "feeds", "ingest", str(folder), "--json"],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    output = process.stdout.read()
    _pid, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    if status != 0:
        raise SystemExit(f"ingest failed with status {status}")
    totals = json.loads(output)
    in_runs = sum(entry["seconds"] for entry in totals["files"])
    return {
        "rows": totals["rows"],
        "accepted": totals["accepted"],
        "duplicates": totals["duplicates"],
        "unrouted": totals["unrouted"],
        "wall": wall,
        "ingest_seconds": in_runs,
        "peak_mb": usage.ru_maxrss / 1024,
        # CPU seconds (all threads): comparable when the machine is shared.
        "cpu": usage.ru_utime + usage.ru_stime,
    }


def environment(kind: str, work: Path, postgres_url: str) -> tuple[dict[str, str], object]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CERTHUB_")}
    env |= {
        "CERTHUB_DATA_DIR": str(work / kind),
        "CERTHUB_DEMO": "true",
        "CERTHUB_SECRET_KEY": "bench",
    }
    cleanup = None
    if kind == "postgresql":
        import psycopg

        with psycopg.connect(postgres_url, autocommit=True) as admin:
            admin.execute("DROP DATABASE IF EXISTS bench_feeds")
            admin.execute("CREATE DATABASE bench_feeds")
        base = postgres_url.rsplit("/", 1)[0]
        env["CERTHUB_DATABASE_URL"] = f"{base}/bench_feeds"

        def cleanup() -> None:
            with psycopg.connect(postgres_url, autocommit=True) as admin:
                admin.execute("DROP DATABASE IF EXISTS bench_feeds WITH (FORCE)")

    return env, cleanup


# --- IntelMQ, in its own virtualenv ------------------------------------------------------

INTELMQ_VERSION = "3.5.0"
DRIVER = ROOT / "bench" / "intelmq_driver.py"
_CONVERSIONS = {
    "time.source": "add_UTC_to_timestamp",
    "source.ip": "validate_ip",
    "destination.ip": "validate_ip",
    "source.port": "convert_int",
    "destination.port": "convert_int",
    "source.asn": "invalidate_zero",
    "destination.asn": "invalidate_zero",
}


def intelmq_schema(codes: list[str]) -> dict[str, object]:
    """The Shadowserver parser's schema (the file IntelMQ downloads from Shadowserver,
    not reachable here) for the benchmark's report types, written from certhub's own
    mapping so that both tools harmonize the same columns to the same fields."""
    schema: dict[str, object] = {"_meta": {"date_created": "bench", "change_log": []}}
    for code in codes:
        report = REPORT_TYPES[code]
        required: list[list[str]] = []
        optional: list[list[str]] = []
        for column in report.columns:
            target = report.fields.get(column)
            if column == report.identifier_column:
                target = "classification.identifier"
            item = [target or "extra.", column]
            conversion = _CONVERSIONS.get(target or "", None if target else "validate_to_none")
            if conversion:
                item.append(conversion)
            (required if target in ("time.source", "source.ip") else optional).append(item)
        constants = {
            "classification.taxonomy": report.taxonomy,
            "classification.type": report.type,
        } | {k: v for k, v in report.constants.items() if k not in report.fields.values()}
        if not report.identifier_column:
            constants["classification.identifier"] = report.identifier
        schema[code] = {
            "feed_name": report.feed_name,
            "file_name": code,
            "required_fields": required,
            "optional_fields": optional,
            "constant_fields": constants,
        }
    return schema


def write_prefix_table(networks: list[str], path: Path) -> None:
    """The prefix-to-AS table both tools get: pyasn's ipasn.dat text format, which
    `certhub feeds load-asn` reads too."""
    lines = ["; IP-ASN32-DAT file", "; bench prefix table"]
    for i, network in enumerate(networks):
        lines.append(f"{ipaddress.ip_network(network, strict=False)}\t{64512 + i % 1000}")
    path.write_text("\n".join(lines) + "\n")


# pyasn and IntelMQ still import pkg_resources (gone from setuptools 81 on).
INTELMQ_PACKAGES = [
    f"intelmq=={INTELMQ_VERSION}",
    "redis",
    "pyasn",
    "pendulum",
    "textx",
    "setuptools<81",
]


def intelmq_venv(work: Path) -> Path:
    """IntelMQ (and redis, pyasn, the sieve's parser) in a virtualenv of its own, made
    once per package list (PyPI through pip, as any IntelMQ install)."""
    venv = work / f"intelmq-{INTELMQ_VERSION}"
    python = venv / "bin" / "python"
    packages = hashlib.sha256(" ".join(INTELMQ_PACKAGES).encode()).hexdigest()[:12]
    marker = venv / f".installed-{packages}"
    if not marker.exists():
        if not python.exists():
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", *INTELMQ_PACKAGES],
            check=True,
            capture_output=True,
        )
        marker.touch()
    return python


def run_intelmq(work: Path, files: list[Path], networks: list[str], max_rows: int) -> str:
    """IntelMQ's rows/s on the first ``max_rows`` rows of every file, or why not."""
    try:
        python = intelmq_venv(work)
    except (subprocess.CalledProcessError, OSError) as exc:
        detail = getattr(exc, "stderr", b"") or b""
        last = [line for line in detail.decode(errors="replace").splitlines() if line.strip()]
        return f"not run (could not install IntelMQ {INTELMQ_VERSION}: {exc} {last[-1:]})"
    scratch = work / "intelmq-run"
    shutil.rmtree(scratch, ignore_errors=True)
    state = scratch / "root" / "var" / "lib" / "bots"
    state.mkdir(parents=True)
    codes = [p.name.split("-")[3] for p in files]
    (state / "shadowserver-schema.json").write_text(json.dumps(intelmq_schema(codes)))
    write_prefix_table(networks, scratch / "ipasn.dat")
    # A sieve rule of the kind a CERT keeps: drop what the IntelMQ chain cannot route.
    (scratch / "sieve.txt").write_text(
        "if classification.taxonomy == 'test' { drop }\n"
        "if ! :exists source.ip && ! :exists source.fqdn { drop }\n"
    )
    out = subprocess.run(
        [str(python), str(DRIVER), str(scratch), str(max_rows), *map(str, files)],
        capture_output=True,
        text=True,
    )
    if out.returncode != 0:
        return f"not run (the IntelMQ driver failed: {out.stderr.strip().splitlines()[-1:]})"
    return out.stdout.strip().splitlines()[-1]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--extra-cidrs", type=int, default=0, help="add this many CIDR assets")
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument(
        "--intelmq-rows",
        type=int,
        default=5000,
        help="rows of each file IntelMQ processes (0: skip IntelMQ); ~1,000 rows/s",
    )
    parser.add_argument("--work", default=str(Path(tempfile.gettempdir()) / "certhub-bench-feeds"))
    args = parser.parse_args()
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)

    print(f"certhub feeds benchmark: {args.rows:,} rows, {args.extra_cidrs:,} extra CIDR assets")
    results = {}
    files = work / f"reports-{args.rows}"
    networks: list[str] = []
    for kind in args.databases.split(","):
        shutil.rmtree(work / kind, ignore_errors=True)
        env, cleanup = environment(kind, work, args.postgres_url)
        try:
            prepare(env, args.extra_cidrs)
            networks = demo_networks(env)
            generate(files, args.rows, networks)
            # The same prefix-to-AS table IntelMQ's ASN lookup gets.
            table = work / "ipasn.dat"
            write_prefix_table(networks, table)
            subprocess.run(
                [*CERTHUB, "feeds", "load-asn", str(table)],
                env=env,
                check=True,
                stdout=subprocess.DEVNULL,
            )
            result = measure(env, files)
        finally:
            if cleanup:
                cleanup()  # type: ignore[operator]
        results[kind] = result
        print(
            f"  certhub on {kind:10}: {result['rows']:>10,} rows in {result['wall']:7.2f} s wall "
            f"({result['rows'] / result['wall']:>9,.0f} rows/s; "
            f"{result['rows'] / result['ingest_seconds']:>9,.0f} rows/s inside the ingest runs), "
            f"{result['cpu']:.1f} CPU s, peak memory {result['peak_mb']:.0f} MB; "
            f"{result['accepted']:,} events, {result['duplicates']:,} duplicates, "
            f"{result['unrouted']:,} unrouted"
        )
    if not args.intelmq_rows:
        print("  IntelMQ: not run (--intelmq-rows 0)")
        return
    outcome = run_intelmq(work, sorted(files.glob("*.csv")), networks, args.intelmq_rows)
    if outcome.startswith("not run"):
        print(f"  IntelMQ: {outcome}")
        return
    intelmq = json.loads(outcome)
    rate = intelmq["rows"] / intelmq["seconds"]
    print(
        f"  IntelMQ {INTELMQ_VERSION} (library mode: Shadowserver parser, taxonomy, ASN lookup, "
        f"sieve, deduplicator): {intelmq['rows']:,} rows in {intelmq['seconds']:.2f} s "
        f"({rate:,.0f} rows/s), {intelmq['events']:,} events out"
    )
    for kind, result in results.items():
        ratio = result["rows"] / result["wall"] / rate
        inside = result["rows"] / result["ingest_seconds"] / rate
        print(
            f"  certhub on {kind} / IntelMQ: {ratio:,.0f}x (wall), {inside:,.0f}x (inside the "
            f"ingest runs); certhub peak memory {result['peak_mb']:.0f} MB"
        )


if __name__ == "__main__":
    main()
