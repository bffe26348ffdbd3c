"""The feeds pages as users meet them: the events browser shows only what the reader
may see, analysts upload report files and read the runs with their rejected rows."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from certhub.feeds import services
from certhub.feeds.models import Event, IngestRun
from tests.feeds.conftest import DATA

BANK_IPS = {"192.0.2.10", "192.0.2.53", "192.0.2.66", "192.0.2.77", "100.64.5.5"}
ALL_IPS = BANK_IPS | {
    "198.51.100.7",
    "203.0.113.5",
    "2001:db8::66",
    "203.0.113.140",
    "203.0.113.200",
}


@pytest.fixture(autouse=True)
def _no_mfa(settings: Any) -> None:
    settings.CERTHUB_REQUIRE_MFA = False


def load_all() -> None:
    for path in sorted(DATA.glob("2026-11-27-*-pk-geo.csv")):
        services.ingest_file(path=path)


def page_for(user: Any, url: str) -> Any:
    client = Client()
    client.force_login(user)
    return client.get(url)


def shown(response: Any) -> set[str]:
    text = response.content.decode()
    return {ip for ip in ALL_IPS if f">{ip}" in text}


@pytest.mark.django_db
def test_banking_analyst_sees_the_banks_events_and_not_telecoms(world: Any) -> None:
    load_all()
    response = page_for(world.users["banking.analyst"], "/feeds/events/")
    assert response.status_code == 200
    assert shown(response) == BANK_IPS


@pytest.mark.django_db
def test_telecom_analyst_sees_none_of_the_banks_events(world: Any) -> None:
    load_all()
    response = page_for(world.users["telecom.analyst"], "/feeds/events/?organization=national-bank")
    assert response.status_code == 200
    assert shown(response) == set()
    assert shown(page_for(world.users["telecom.analyst"], "/feeds/events/")) == {"2001:db8::66"} | (
        {"198.51.100.7"}
    )


@pytest.mark.django_db
def test_organization_reporter_sees_only_its_own_events(world: Any) -> None:
    load_all()
    assert shown(page_for(world.users["national-bank.reporter"], "/feeds/events/")) == BANK_IPS
    assert shown(page_for(world.users["punjab-health.reporter"], "/feeds/events/")) == {
        "203.0.113.5"
    }
    assert shown(page_for(world.users["council"], "/feeds/events/")) == set()


@pytest.mark.django_db
def test_cidr_and_classification_filters_narrow_the_events(world: Any) -> None:
    load_all()
    analyst = world.users["national.analyst"]
    assert shown(page_for(analyst, "/feeds/events/?ip=203.0.113.128/25")) == {
        "203.0.113.140",
        "203.0.113.200",
    }
    assert shown(page_for(analyst, "/feeds/events/?ip=192.0.2.66")) == {"192.0.2.66"}
    infected = page_for(analyst, "/feeds/events/?type=infected-system")
    assert shown(infected) == {"192.0.2.66", "2001:db8::66"}
    bad = page_for(analyst, "/feeds/events/?ip=not-an-address")
    assert bad.status_code == 200
    assert "not an IP address or network" in bad.content.decode()


@pytest.mark.django_db
def test_events_browser_pages_newest_first(world: Any, monkeypatch: Any) -> None:
    from certhub.feeds import views

    monkeypatch.setattr(views, "EVENTS_PER_PAGE", 4)
    load_all()
    analyst = world.users["national.analyst"]
    first = page_for(analyst, "/feeds/events/")
    newest = Event.objects.order_by("-pk")[:5]
    assert f"before={newest[3].pk}" in first.content.decode()
    second = page_for(analyst, f"/feeds/events/?before={newest[3].pk}")
    assert newest[4].source_ip
    assert f">{newest[4].source_ip}" in second.content.decode()


@pytest.mark.django_db
def test_analyst_uploads_a_report_and_reads_its_run_with_rejected_rows(world: Any) -> None:
    client = Client()
    client.force_login(world.users["banking.analyst"])
    assert client.get("/feeds/upload/").status_code == 200
    content = (DATA / "2026-11-27-scan_http-bad-rows.csv").read_bytes()
    response = client.post(
        "/feeds/upload/",
        {"file": SimpleUploadedFile("2026-11-27-scan_http-bad-rows.csv", content, "text/csv")},
    )
    assert response.status_code == 200
    run = IngestRun.objects.get()
    assert run.actor == "banking.analyst"
    assert run.rejected > 0
    text = response.content.decode()
    assert f"<dd>{run.accepted}</dd>" in text
    assert f"/feeds/runs/{run.pk}/" in text

    runs = client.get("/feeds/runs/").content.decode()
    assert "2026-11-27-scan_http-bad-rows.csv" in runs
    detail = client.get(f"/feeds/runs/{run.pk}/")
    assert detail.status_code == 200
    first = run.rejections[0]
    assert f"<td>{first['line']}</td>" in detail.content.decode()


@pytest.mark.django_db
def test_a_run_started_by_another_branch_is_not_found(world: Any) -> None:
    services.ingest_file(
        path=DATA / "2026-11-27-scan_dns-pk-geo.csv", actor=world.users["banking.analyst"]
    )
    run = IngestRun.objects.get()
    assert page_for(world.users["telecom.analyst"], f"/feeds/runs/{run.pk}/").status_code == 404
    assert page_for(world.users["national.analyst"], f"/feeds/runs/{run.pk}/").status_code == 200
    assert page_for(world.users["admin"], f"/feeds/runs/{run.pk}/").status_code == 200


@pytest.mark.django_db
def test_only_cert_analysts_and_coordinators_may_upload(world: Any) -> None:
    for name in ("banking.viewer", "national-bank.reporter", "council", "nobody"):
        assert page_for(world.users[name], "/feeds/upload/").status_code == 404, name
        assert page_for(world.users[name], "/feeds/runs/").status_code == 404, name
    assert page_for(world.users["telecom.coordinator"], "/feeds/upload/").status_code == 200
    anonymous = Client().get("/feeds/upload/")
    assert anonymous.status_code == 302


@pytest.mark.django_db
def test_feed_events_are_in_the_navigation_of_cert_staff_and_members(world: Any) -> None:
    nav_entry = '<li><a href="/feeds/events/"'
    assert nav_entry in page_for(world.users["banking.analyst"], "/directory/").content.decode()
    assert nav_entry in page_for(world.users["city-bank.reporter"], "/directory/").content.decode()
    assert nav_entry not in page_for(world.users["council"], "/directory/").content.decode()
