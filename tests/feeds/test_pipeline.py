"""The pipeline's promises: files load once, every row is accounted for, re-sightings
merge, broken files are quarantined whole, and each input format is understood."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from io import StringIO
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from django.core.management import call_command
from django.utils import timezone

from certhub.audit.models import AuditEntry
from certhub.feeds import services
from certhub.feeds.models import AsnPrefix, Event, IngestRun, ReportFile
from certhub.feeds.parsers import csv_text
from certhub.feeds.pipeline import identity_hash
from certhub.feeds.reports import REPORT_TYPES
from certhub.feeds.storage import stored_path
from tests.feeds.conftest import DATA

HTTP = DATA / "2026-11-27-scan_http-pk-geo.csv"
BAD = DATA / "2026-11-27-scan_http-bad-rows.csv"


def scan_http(tmp_path: Path, name: str, rows: list[dict[str, str]]) -> Path:
    columns = list(REPORT_TYPES["scan_http"].columns)
    path = tmp_path / name
    path.write_text(csv_text([columns, *[[r.get(c, "") for c in columns] for r in rows]]))
    return path


@pytest.mark.django_db
def test_reingesting_the_same_file_adds_nothing(world: Any, tmp_path: Path) -> None:
    first = services.ingest_file(path=HTTP)
    copy = tmp_path / "renamed.csv"
    copy.write_bytes(HTTP.read_bytes())

    again = services.ingest_file(path=HTTP)
    renamed = services.ingest_file(path=copy)

    assert first.status == "done"
    assert again.status == renamed.status == "skipped"
    assert "already ingested" in again.message
    assert Event.objects.count() == 3
    assert set(Event.objects.values_list("count", flat=True)) == {1}
    assert IngestRun.objects.count() == 1
    assert ReportFile.objects.count() == 1
    # The original is kept once, content-addressed, and read-only.
    sha = IngestRun.objects.get().sha256
    assert stored_path(sha).read_bytes() == HTTP.read_bytes()


@pytest.mark.django_db
def test_bad_rows_are_reported_with_their_line_and_the_counts_add_up(world: Any) -> None:
    outcome = services.ingest_file(path=BAD)

    run = outcome.run
    assert run is not None
    assert outcome.status == "done"
    assert run.rejections == [
        {"line": 3, "reason": "source.ip is not an IP address: 999.1.1.1"},
        {"line": 4, "reason": "time.source is missing"},
        {"line": 5, "reason": "source.port is not a port number: 70000"},
        {"line": 6, "reason": "time.source is not a timestamp: yesterday"},
    ]
    # Lines 2 and 7 are the same service seen twice that day: one event, two sightings.
    assert (run.rows, run.accepted, run.duplicates, run.rejected, run.unrouted) == (6, 1, 1, 4, 0)
    assert run.rows == run.accepted + run.duplicates + run.rejected
    event = Event.objects.get()
    assert (event.line, event.count) == (2, 2)
    assert event.time_source == dt.datetime(2026, 11, 27, 1, 2, 3, tzinfo=dt.UTC)
    assert event.last_seen == dt.datetime(2026, 11, 27, 9, 0, 0, tzinfo=dt.UTC)
    assert event.extra == {"http_code": "200"}  # the first sighting's row
    entry = AuditEntry.objects.get(action="feeds.file_ingested")
    assert entry.changes["rejected"] == [None, 4]


@pytest.mark.django_db
def test_a_resighting_in_a_later_file_bumps_the_event_not_the_rows(
    world: Any, tmp_path: Path
) -> None:
    base = {"severity": "medium", "protocol": "tcp", "port": "80"}
    morning = scan_http(
        tmp_path,
        "2026-11-27-scan_http-am.csv",
        [dict(base, timestamp="2026-11-27 06:00:00", ip="192.0.2.10")],
    )
    evening = scan_http(
        tmp_path,
        "2026-11-27-scan_http-pm.csv",
        [
            dict(base, timestamp="2026-11-27 18:00:00", ip="192.0.2.10"),
            dict(base, timestamp="2026-11-28 06:00:00", ip="192.0.2.10"),  # next day: new
            dict(base, timestamp="2026-11-27 18:00:00", ip="192.0.2.10", port="8080"),
        ],
    )
    services.ingest_file(path=morning)
    outcome = services.ingest_file(path=evening)

    assert outcome.run is not None
    assert (outcome.run.accepted, outcome.run.duplicates) == (2, 1)
    rows = list(
        Event.objects.order_by("day", "source_port").values_list("day", "source_port", "count")
    )
    assert rows == [
        (dt.date(2026, 11, 27), 80, 2),
        (dt.date(2026, 11, 27), 8080, 1),
        (dt.date(2026, 11, 28), 80, 1),
    ]
    merged = Event.objects.get(day=dt.date(2026, 11, 27), source_port=80)
    assert merged.last_seen == dt.datetime(2026, 11, 27, 18, 0, tzinfo=dt.UTC)
    assert merged.file.name == morning.name
    assert merged.line == 2


@pytest.mark.django_db
def test_the_identity_key_is_configurable(world: Any, settings: Any, tmp_path: Path) -> None:
    settings.CERTHUB_FEEDS_IDENTITY = ["feed.name", "source.ip"]  # any port: same event
    path = scan_http(
        tmp_path,
        "2026-11-27-scan_http-ports.csv",
        [
            {"timestamp": "2026-11-27 06:00:00", "ip": "192.0.2.10", "port": "80"},
            {"timestamp": "2026-11-27 07:00:00", "ip": "192.0.2.10", "port": "8080"},
        ],
    )
    services.ingest_file(path=path)
    assert Event.objects.get().count == 2


@pytest.mark.django_db
def test_an_unknown_report_type_is_quarantined_and_nothing_is_loaded(
    world: Any, tmp_path: Path
) -> None:
    path = tmp_path / "2026-11-27-scan_teapot-pk.csv"
    path.write_text("timestamp,teapot,ip\n2026-11-27 00:00:00,short and stout,192.0.2.1\n")

    outcome = services.ingest_file(path=path)

    assert outcome.status == "quarantined"
    assert "Unknown report type" in outcome.message
    run = IngestRun.objects.get()
    assert (run.status, run.rows, run.reason) == ("quarantined", 0, outcome.message)
    assert Event.objects.count() == 0
    assert AuditEntry.objects.filter(action="feeds.file_quarantined").count() == 1


@pytest.mark.django_db
def test_a_file_broken_half_way_is_never_half_loaded(world: Any, tmp_path: Path) -> None:
    good = HTTP.read_text().splitlines()
    # Many good rows (several chunks), then a row with more fields than the header.
    lines = [good[0]] + [good[1].replace("192.0.2.10", f"192.0.2.{i % 250}") for i in range(500)]
    lines.append(good[1] + ",unexpected,extra,fields")
    path = tmp_path / "2026-11-27-scan_http-broken.csv"
    path.write_text("\n".join(lines) + "\n")

    outcome = services.ingest_file(path=path, chunk_rows=100)

    assert outcome.status == "quarantined", outcome.message
    assert "not a readable CSV" in outcome.message
    assert Event.objects.count() == 0
    assert IngestRun.objects.get().status == "quarantined"


@pytest.mark.django_db
def test_the_report_type_is_read_from_the_header_when_the_name_says_nothing(
    world: Any, tmp_path: Path
) -> None:
    path = tmp_path / "download.csv"
    path.write_bytes((DATA / "2026-11-27-scan_ntp-pk-geo.csv").read_bytes())

    outcome = services.ingest_file(path=path)

    assert outcome.run is not None
    assert outcome.run.report_type == "scan_ntp"
    assert Event.objects.get().classification_identifier == "ntp-version"


@pytest.mark.django_db
def test_a_partner_csv_loads_through_its_declared_mapping(world: Any, tmp_path: Path) -> None:
    mapping = {
        "feed": "Partner CERT scans",
        "columns": {"seen": "time.source", "addr": "source.ip", "svc_port": "source.port"},
        "constants": {
            "classification.taxonomy": "vulnerable",
            "classification.type": "vulnerable-system",
            "classification.identifier": "exposed-modbus",
            "protocol.application": "modbus",
        },
        "delimiter": ";",
        "time_format": "%d/%m/%Y %H:%M",
    }
    path = tmp_path / "partner.csv"
    path.write_text("seen;addr;svc_port;plc\n27/11/2026 10:30;203.0.113.150;502;Siemens S7\n")

    outcome = services.ingest_file(path=path, mapping=mapping)

    assert outcome.status == "done", outcome.message
    event = Event.objects.select_related("organization").get()
    assert (event.feed_name, event.feed_code) == ("Partner CERT scans", "generic")
    assert event.classification_identifier == "exposed-modbus"
    assert event.protocol_application == "modbus"
    assert event.time_source == dt.datetime(2026, 11, 27, 10, 30, tzinfo=dt.UTC)
    assert (event.source_ip, event.source_port) == ("203.0.113.150", 502)
    assert event.organization.slug == "sindh-water"
    assert event.extra == {"plc": "Siemens S7"}


@pytest.mark.django_db
def test_intelmq_json_lines_keep_their_fields_and_report_bad_lines(
    world: Any, tmp_path: Path
) -> None:
    good = {
        "feed.name": "Phishing peers",
        "time.source": "2026-11-27T08:15:00+00:00",
        "classification.taxonomy": "fraud",
        "classification.type": "phishing",
        "classification.identifier": "phishing-site",
        "source.url": "http://login.nationalbank.example.evil.example/",
        "source.fqdn": "secure.NationalBank.example.",
        "source.geolocation.latitude": 24.86,
        "extra.brand": "National Bank",
        "raw": "aGVsbG8=",
    }
    lines = [json.dumps(good), "", "{not json", json.dumps({"time.source": "2026-11-27T08:00:00Z"})]
    path = tmp_path / "peers.jsonl"
    path.write_text("\n".join(lines) + "\n")

    outcome = services.ingest_file(path=path)

    run = outcome.run
    assert run is not None
    assert (run.rows, run.accepted, run.rejected) == (3, 1, 2)
    assert run.rejections == [
        {"line": 3, "reason": "not valid JSON"},
        {"line": 4, "reason": "the row has no source.ip, source.fqdn or source.url"},
    ]
    event = Event.objects.select_related("organization").get()
    assert event.feed_code == "intelmq"
    assert event.feed_name == "Phishing peers"
    assert event.source_ip is None
    assert event.source_fqdn == "secure.nationalbank.example"
    assert event.organization.slug == "national-bank"
    assert event.routed_by == "domain"
    assert event.extra == {"brand": "National Bank", "source.geolocation.latitude": 24.86}


@pytest.mark.django_db
def test_the_operators_prefix_table_gives_as_numbers_and_names(world: Any) -> None:
    services.load_asn_table(
        text="prefix,asn,name\n100.64.0.0/10,64511,CGN-EXAMPLE Shared Space\n"
        "100.64.1.0/24,64499,NESTED-CUSTOMER\n2001:db8::/32,64500,TELCO-EXAMPLE\n"
    )
    assert AsnPrefix.objects.count() == 3
    services.load_asn_table(text="; pyasn\n100.64.0.0/10\t64511\n100.64.1.0/24\t64499\n")
    assert AsnPrefix.objects.count() == 2

    services.load_asn_table(
        text="prefix,asn,name\n100.64.0.0/10,64511,CGN-EXAMPLE\n100.64.1.0/24,64499,CUSTOMER\n"
    )
    services.ingest_file(path=DATA / "2026-11-27-compromised_website-pk-geo.csv")  # 100.64.5.5
    services.ingest_file(path=HTTP)  # 100.64.1.1 carries AS 64511 in the report itself

    site = Event.objects.get(feed_code="compromised_website")
    assert (site.source_asn, site.source_as_name) == (64511, "CGN-EXAMPLE")
    http = Event.objects.get(source_ip="100.64.1.1")
    assert (http.source_asn, http.source_as_name) == (64511, "CGN-EXAMPLE")


@pytest.mark.django_db
def test_a_bad_prefix_table_changes_nothing(world: Any) -> None:
    services.load_asn_table(text="prefix,asn,name\n192.0.2.0/24,64496,BANK\n")
    with pytest.raises(Exception, match="line 3"):
        services.load_asn_table(text="prefix,asn,name\n198.51.100.0/24,64500,T\nnot-a-net,1,x\n")
    assert list(AsnPrefix.objects.values_list("prefix", flat=True)) == ["192.0.2.0/24"]


@pytest.mark.django_db
def test_prune_drops_old_events_and_files_nobody_points_at(
    world: Any, tmp_path: Path, django_capture_on_commit_callbacks: Any
) -> None:
    today = timezone.now().date()
    old = scan_http(
        tmp_path,
        "old.csv",
        [
            {
                "timestamp": f"{today - dt.timedelta(days=40)} 00:00:00",
                "ip": "192.0.2.1",
                "port": "80",
            }
        ],
    )
    new = scan_http(
        tmp_path, "new.csv", [{"timestamp": f"{today} 00:00:00", "ip": "192.0.2.1", "port": "80"}]
    )
    services.ingest_file(path=old, report_type="scan_http")
    services.ingest_file(path=new, report_type="scan_http")
    old_sha = IngestRun.objects.get(file_name="old.csv").sha256

    out = StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("feeds", "prune", "--older-than", "30", stdout=out)

    assert "pruned 1 events and 1 report files" in out.getvalue()
    assert list(Event.objects.values_list("day", flat=True)) == [today]
    assert not stored_path(old_sha).exists()
    assert IngestRun.objects.count() == 2  # the accounting stays


@pytest.mark.django_db
def test_cli_json_prints_totals_and_each_file(world: Any, tmp_path: Path) -> None:
    folder = tmp_path / "reports"
    folder.mkdir()
    for path in (HTTP, BAD):
        (folder / path.name).write_bytes(path.read_bytes())
    out, err = StringIO(), StringIO()

    call_command("feeds", "ingest", str(folder), str(HTTP), "--json", stdout=out, stderr=err)

    document = json.loads(out.getvalue())
    assert {k: document[k] for k in ("rows", "accepted", "duplicates", "rejected", "unrouted")} == {
        "rows": 9,
        "accepted": 3,
        "duplicates": 2,
        "rejected": 4,
        "unrouted": 1,
    }
    assert [(f["file"], f["status"]) for f in document["files"]] == [
        (BAD.name, "done"),
        (HTTP.name, "done"),
        (HTTP.name, "skipped"),
    ]
    assert "line 3: source.ip is not an IP address: 999.1.1.1" in err.getvalue()


@pytest.mark.django_db
def test_cli_summary_table_names_each_file(world: Any) -> None:
    out = StringIO()
    call_command("feeds", "ingest", str(HTTP), stdout=out)
    assert "2026-11-27-scan_http-pk-geo.csv" in out.getvalue()
    assert "accepted" in out.getvalue()


def test_the_dedup_key_is_a_stable_64_bit_hash_of_the_identity() -> None:
    # The key is stored: it must be the same in every release (BLAKE2b, not polars' hash),
    # or re-sightings after an upgrade would become new events.
    keys = identity_hash(pl.Series(["Accessible-HTTP|open-http|c000020a|80", ""]))
    assert keys.dtype == pl.Int64
    assert keys.to_list() == [
        int.from_bytes(
            hashlib.blake2b(b"Accessible-HTTP|open-http|c000020a|80", digest_size=8).digest(),
            "big",
            signed=True,
        ),
        int.from_bytes(hashlib.blake2b(b"", digest_size=8).digest(), "big", signed=True),
    ]


@pytest.mark.django_db
def test_a_value_shared_by_every_row_of_a_file_is_stored_exactly(
    world: Any, tmp_path: Path
) -> None:
    # Values the whole chunk shares are written as SQL literals on SQLite: quotes and
    # backslashes must come back unchanged.
    host = "o'brien\\'s.example"
    path = scan_http(
        tmp_path,
        "2026-11-27-scan_http-quotes.csv",
        [
            {
                "timestamp": "2026-11-27 06:00:00",
                "ip": "192.0.2.10",
                "port": "80",
                "hostname": host,
            },
            {
                "timestamp": "2026-11-27 07:00:00",
                "ip": "192.0.2.11",
                "port": "80",
                "hostname": host,
            },
        ],
    )
    outcome = services.ingest_file(path=path)

    assert outcome.status == "done"
    assert sorted(Event.objects.values_list("source_ip", "source_reverse_dns", "line")) == [
        ("192.0.2.10", host, 2),
        ("192.0.2.11", host, 3),
    ]


@pytest.mark.django_db(transaction=True)
def test_the_apps_above_hear_of_a_loaded_file_after_it_commits(world: Any) -> None:
    from certhub.feeds import selectors, signals

    heard: list[dict[str, Any]] = []

    def receiver(sender: Any, run: IngestRun, days: list[dt.date], **kwargs: Any) -> None:
        heard.append({"run": run, "days": days, "events": selectors.events_of_run(run, days)})

    signals.events_loaded.connect(receiver)
    try:
        outcome = services.ingest_file(path=HTTP)
        services.ingest_file(path=HTTP)  # skipped: nothing new, nothing said
    finally:
        signals.events_loaded.disconnect(receiver)
    assert outcome.run is not None
    assert len(heard) == 1
    assert heard[0]["run"].pk == outcome.run.pk
    assert heard[0]["days"] == sorted(set(Event.objects.values_list("day", flat=True)))
    assert heard[0]["events"].count() == outcome.run.accepted == Event.objects.count()
