"""GET /api/v1/events and /api/v1/feeds/runs: the same scope and filters as the events
browser, cursor pages, and the CSV export with its columns."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from django.test import Client

from certhub.feeds import services
from certhub.feeds.digests import CSV_COLUMNS
from certhub.feeds.models import Event, IngestRun
from tests.factories import bearer_client
from tests.feeds.conftest import DATA

BANK_IPS = {"192.0.2.10", "192.0.2.53", "192.0.2.66", "192.0.2.77", "100.64.5.5"}


def load_all() -> None:
    for path in sorted(DATA.glob("2026-11-27-*-pk-geo.csv")):
        services.ingest_file(path=path)


def streamed(response: Any) -> str:
    return b"".join(response.streaming_content).decode()


def ips(client: Client, query: str = "") -> set[str]:
    response = client.get(f"/api/v1/events?limit=500{query}")
    assert response.status_code == 200, response.content
    return {item["source_ip"] for item in response.json()["items"]}


@pytest.mark.django_db
def test_telecom_analyst_gets_none_of_the_banks_events(world: Any) -> None:
    load_all()
    telecom = bearer_client(world.users["telecom.analyst"])
    assert ips(telecom) & BANK_IPS == set()
    assert ips(telecom, "&organization=national-bank") == set()
    bank_event = Event.objects.filter(organization=world.orgs["national-bank"]).first()
    assert bank_event is not None
    assert ips(telecom, f"&ip={bank_event.source_ip}") == set()
    csv_text = streamed(telecom.get("/api/v1/events?format=csv"))
    assert not any(ip in csv_text for ip in BANK_IPS)


@pytest.mark.django_db
def test_organization_reporter_gets_only_its_own_events(world: Any) -> None:
    load_all()
    assert ips(bearer_client(world.users["national-bank.reporter"])) == BANK_IPS
    assert ips(bearer_client(world.users["council"])) == set()


@pytest.mark.django_db
def test_cidr_and_day_filters(world: Any) -> None:
    load_all()
    analyst = bearer_client(world.users["national.analyst"])
    assert ips(analyst, "&ip=203.0.113.128/25") == {"203.0.113.140", "203.0.113.200"}
    assert ips(analyst, "&ip=2001:db8::/32") == {"2001:db8::10", "2001:db8::66"}
    assert ips(analyst, "&day=2026-11-28") == set()
    assert "192.0.2.10" in ips(analyst, "&day=2026-11-27")
    assert ips(analyst, "&taxonomy=malicious-code&type=infected-system") == {
        "192.0.2.66",
        "2001:db8::66",
    }
    bad = analyst.get("/api/v1/events?ip=300.1.2.3")
    assert bad.status_code == 400
    assert "not an IP address" in bad.json()["detail"]


@pytest.mark.django_db
def test_cursor_pages_cover_every_visible_event_once(world: Any) -> None:
    load_all()
    analyst = bearer_client(world.users["national.analyst"])
    seen: list[int] = []
    url = "/api/v1/events?limit=3"
    while url:
        body = analyst.get(url).json()
        seen += [item["id"] for item in body["items"]]
        url = f"/api/v1/events?limit=3&cursor={body['next_cursor']}" if body["next_cursor"] else ""
    routed = Event.objects.exclude(organization=None)
    assert sorted(seen) == sorted(routed.values_list("pk", flat=True))
    assert len(seen) == len(set(seen))


@pytest.mark.django_db
def test_csv_export_has_the_documented_columns(world: Any) -> None:
    load_all()
    bank = bearer_client(world.users["banking.analyst"])
    response = bank.get("/api/v1/events?format=csv&organization=national-bank")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(streamed(response))))
    assert tuple(rows[0]) == CSV_COLUMNS
    by_ip = {
        row[CSV_COLUMNS.index("source_ip")]: dict(zip(CSV_COLUMNS, row, strict=True))
        for row in rows[1:]
    }
    assert set(by_ip) == BANK_IPS
    sinkhole = by_ip["192.0.2.66"]
    assert sinkhole["classification_type"] == "infected-system"
    assert sinkhole["organization"] == "national-bank"
    assert sinkhole["day"] == "2026-11-27"
    assert sinkhole["source_port"] == "49152"


@pytest.mark.django_db
def test_ingest_runs_for_staff_only(world: Any) -> None:
    services.ingest_file(path=DATA / "2026-11-27-scan_http-bad-rows.csv")
    run = IngestRun.objects.get()
    national = bearer_client(world.users["national.analyst"])
    body = national.get("/api/v1/feeds/runs").json()
    assert [item["id"] for item in body["items"]] == [run.pk]
    detail = national.get(f"/api/v1/feeds/runs/{run.pk}").json()
    assert detail["rejected"] == run.rejected > 0
    assert detail["rejections"][0]["line"] == run.rejections[0]["line"]
    reporter = bearer_client(world.users["national-bank.reporter"])
    assert reporter.get("/api/v1/feeds/runs").json()["items"] == []
    assert reporter.get(f"/api/v1/feeds/runs/{run.pk}").status_code == 404
    assert Client().get("/api/v1/feeds/runs").status_code == 401
