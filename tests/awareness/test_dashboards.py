"""The dashboards as their audiences use them: the National CERT sees the country, a
sectoral CERT its subtree, an organization its own exposure, the Council aggregates
only; every figure has its SVG plot and its CSV, and the rollups behind them follow the
feeds and incidents as they commit."""

from __future__ import annotations

import csv
import io
import zipfile
from typing import Any

import pytest
from django.test import Client

from certhub.awareness import selectors, services
from certhub.awareness.models import EventRollup, IncidentRollup, OrgEventRollup
from certhub.core.errors import NotFound
from certhub.feeds.models import Event
from tests.awareness.conftest import period
from tests.factories import World, make_incident

pytestmark = pytest.mark.django_db


def client_for(world: World, username: str) -> Client:
    client = Client()
    client.force_login(world.users[username])
    return client


def csv_rows(response: Any) -> list[list[str]]:
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.content.decode())))


def as_dict(rows: list[list[str]]) -> dict[str, str]:
    return {row[0]: row[1] for row in rows[1:]}


def test_an_ingest_fills_the_event_rollups_through_the_signal(world: World, landscape: Any) -> None:
    assert Event.objects.count() > 0
    assert sum(EventRollup.objects.values_list("events", flat=True)) == Event.objects.count()
    routed = Event.objects.filter(organization__isnull=False)
    assert sum(OrgEventRollup.objects.values_list("events", flat=True)) == routed.count()
    bank = world.orgs["national-bank"]
    assert (
        sum(OrgEventRollup.objects.filter(organization=bank).values_list("events", flat=True))
        == routed.filter(organization=bank).count()
    )


def test_a_reported_incident_is_counted_once_its_transaction_commits(
    world: World, committed: Any
) -> None:
    committed(lambda: make_incident(world.users["national-bank.reporter"], title="Odd logins"))
    rows = list(IncidentRollup.objects.all())
    assert len(rows) == 1
    assert rows[0].incidents == 1
    assert rows[0].open == 1
    assert rows[0].team_id == world.teams["banking"].pk
    assert rows[0].sector_id == world.orgs["national-bank"].sector_id
    # A second refresh changes nothing (a recount, not an increment).
    services.refresh_all_incidents()
    assert list(IncidentRollup.objects.values_list("incidents", flat=True)) == [1]


def test_national_coordinator_sees_the_country_with_plots_and_data(
    world: World, landscape: Any
) -> None:
    coordinator = client_for(world, "national.coordinator")
    page = coordinator.get("/awareness/national/", period())
    assert page.status_code == 200
    html = page.content.decode()
    for title in (
        "Incidents by sector",
        "Open, overdue and SLA compliance per CERT",
        "Feed events per week, by sector",
        "Most affected organizations",
        "Advisories: acknowledgement rates",
    ):
        assert title in html
    # No inline style in our page (CSP): the plots are images.
    assert "style=" not in html
    assert 'src="/awareness/national/plots/incidents_sector.svg?' in html

    by_sector = as_dict(
        csv_rows(coordinator.get("/awareness/national/data/incidents_sector.csv", period()))
    )
    assert by_sector == {"Banking": "1", "Telecom": "1", "Health": "1"}
    by_team = {
        row[0]: row
        for row in csv_rows(coordinator.get("/awareness/national/data/team_health.csv", period()))[
            1:
        ]
    }
    assert by_team["Banking"][1:3] == ["1", "1"]  # one incident, still open

    svg = coordinator.get("/awareness/national/plots/incidents_sector.svg", period())
    assert svg.status_code == 200
    assert svg["Content-Type"] == "image/svg+xml"
    body = svg.content.decode()
    assert body.lstrip().startswith("<?xml")
    assert "<svg" in body
    assert "Incidents by sector" in body
    assert "Banking" in body

    top = csv_rows(coordinator.get("/awareness/national/data/top_organizations.csv", period()))
    assert top[0][:3] == ["Organization", "Events", "Host-days"]
    assert "National-Bank" in {row[0] for row in top[1:]}


def test_banking_analyst_sees_its_subtree_and_not_the_country_or_telecom(
    world: World, landscape: Any
) -> None:
    analyst = client_for(world, "banking.analyst")
    assert analyst.get("/awareness/national/").status_code == 404
    assert analyst.get("/awareness/team/telecom/").status_code == 404
    assert analyst.get("/awareness/team/telecom/data/incidents_sector.csv").status_code == 404
    # Nor the other branch's plots and workbook, nor its organizations' dashboards.
    assert analyst.get("/awareness/team/telecom/plots/incidents_sector.svg").status_code == 404
    assert analyst.get("/awareness/team/telecom/export.xlsx").status_code == 404
    assert analyst.get("/awareness/organization/telco/").status_code == 404
    assert (
        analyst.get("/awareness/organization/telco/plots/organization_hosts.svg").status_code == 404
    )
    assert analyst.get("/awareness/organization/telco/export.xlsx").status_code == 404
    own = "/awareness/organization/national-bank"
    assert analyst.get(f"{own}/plots/organization_hosts.svg", period()).status_code == 200
    assert analyst.get(f"{own}/export.xlsx", period()).status_code == 200
    assert analyst.get("/awareness/council/").status_code == 404
    assert analyst.get("/awareness/team/banking/", period()).status_code == 200
    by_sector = as_dict(
        csv_rows(analyst.get("/awareness/team/banking/data/incidents_sector.csv", period()))
    )
    assert by_sector == {"Banking": "1"}
    events = csv_rows(analyst.get("/awareness/team/banking/data/events_sector_week.csv", period()))
    assert events[0][1:] == ["Banking"]
    top = {
        row[0]
        for row in csv_rows(
            analyst.get("/awareness/team/banking/data/top_organizations.csv", period())
        )[1:]
    }
    assert top <= {"National-Bank", "City-Bank"}
    assert "National-Bank" in top
    # A filter naming a CERT of another branch is refused, not widened.
    assert (
        analyst.get(
            "/awareness/team/banking/data/incidents_sector.csv", {"team": "telecom"}
        ).status_code
        == 404
    )


def test_national_coordinator_narrows_by_team_and_sector(world: World, landscape: Any) -> None:
    coordinator = client_for(world, "national.coordinator")
    government = as_dict(
        csv_rows(
            coordinator.get(
                "/awareness/national/data/incidents_sector.csv", {**period(), "team": "government"}
            )
        )
    )
    assert government == {"Health": "1"}  # the Punjab CERT sits under the Government CERT
    banking = as_dict(
        csv_rows(
            coordinator.get(
                "/awareness/national/data/incidents_category.csv", {**period(), "sector": "banking"}
            )
        )
    )
    assert banking == {"Malicious Code": "1"}


def test_bank_reporter_sees_its_own_exposure_only(world: World, landscape: Any) -> None:
    reporter = client_for(world, "national-bank.reporter")
    assert reporter.get("/awareness/national/").status_code == 404
    assert reporter.get("/awareness/team/banking/").status_code == 404
    assert reporter.get("/awareness/organization/telco/").status_code == 404
    assert (
        reporter.get("/awareness/organization/telco/data/organization_hosts.csv").status_code == 404
    )
    page = reporter.get("/awareness/organization/national-bank/", period())
    assert page.status_code == 200
    html = page.content.decode()
    assert "Ransomware at the National Bank" in html
    assert "Phishing at Telco" not in html
    hosts = csv_rows(
        reporter.get("/awareness/organization/national-bank/data/organization_hosts.csv", period())
    )
    total = sum(int(v) for row in hosts[1:] for v in row[1:])
    bank_hosts = (
        Event.objects.filter(organization=world.orgs["national-bank"])
        .values("feed_name", "day", "source_ip")
        .distinct()
        .count()
    )
    assert total == bank_hosts > 0
    # The national figures are not the bank's to read.
    assert reporter.get("/awareness/national/plots/incidents_sector.svg").status_code == 404


def test_council_sees_aggregates_and_never_an_organization_or_incident(
    world: World, landscape: Any
) -> None:
    council = client_for(world, "council")
    page = council.get("/awareness/council/", period())
    assert page.status_code == 200
    html = page.content.decode()
    assert "Incidents by sector" in html
    for secret in ("National-Bank", "Telco", "Punjab-Health", "Ransomware", "CERT-"):
        assert secret not in html
    assert "Most affected organizations" not in html
    assert council.get("/awareness/council/data/top_organizations.csv").status_code == 404
    assert council.get("/awareness/council/plots/top_organizations.svg").status_code == 404
    assert council.get("/awareness/national/").status_code == 404
    assert council.get("/awareness/organization/national-bank/").status_code == 404
    assert council.get(f"/incidents/{landscape['bank'].reference}/").status_code == 404
    sectors = as_dict(
        csv_rows(council.get("/awareness/council/data/incidents_sector.csv", period()))
    )
    assert sectors == {"Banking": "1", "Telecom": "1", "Health": "1"}
    svg = council.get("/awareness/council/plots/incidents_week.svg", period())
    assert svg.status_code == 200
    assert b"<svg" in svg.content


def test_national_aggregates_for_the_council_pages(world: World, landscape: Any) -> None:
    tables = selectors.national_aggregates(world.users["council"])
    names = {t.name for t in tables}
    assert "incidents_sector" in names
    assert "top_organizations" not in names
    sectors = {t.name: t for t in tables}["incidents_sector"]
    assert sum(row[1] for row in sectors.rows) == 3
    with pytest.raises(NotFound):
        selectors.national_aggregates(world.users["banking.analyst"])
    with pytest.raises(NotFound):
        selectors.national_aggregates(world.users["national-bank.reporter"])


def test_every_table_as_one_xlsx_workbook(world: World, landscape: Any) -> None:
    response = client_for(world, "national.coordinator").get(
        "/awareness/national/export.xlsx", period()
    )
    assert response.status_code == 200
    workbook = zipfile.ZipFile(io.BytesIO(response.content))
    sheets = workbook.read("xl/workbook.xml").decode()
    for name in ("incidents_sector", "team_health", "top_organizations"):
        assert f'name="{name}"' in sheets
    assert (
        client_for(world, "telecom.analyst").get("/awareness/national/export.xlsx").status_code
        == 404
    )


def test_bad_filters_answer_a_message_not_an_error(world: World, landscape: Any) -> None:
    coordinator = client_for(world, "national.coordinator")
    page = coordinator.get("/awareness/national/", {"start": "2026-13-45", "sector": "nope"})
    assert page.status_code == 200
    assert "must be a date" in page.content.decode()
    assert (
        coordinator.get("/awareness/national/plots/incidents_sector.svg", {"end": "x"}).status_code
        == 400
    )
    assert (
        coordinator.get(
            "/awareness/national/data/incidents_sector.csv", {"sector": "nope"}
        ).status_code
        == 400
    )
    assert coordinator.get("/awareness/national/plots/no_such.svg").status_code == 404
    assert coordinator.get("/awareness/nowhere/").status_code == 404


def test_the_index_leads_each_user_to_its_dashboards(world: World) -> None:
    reporter = client_for(world, "national-bank.reporter")
    response = reporter.get("/awareness/")
    assert response.status_code == 302
    assert response["Location"] == "/awareness/organization/national-bank/"
    assert client_for(world, "nobody").get("/awareness/").status_code == 404
    coordinator = client_for(world, "national.coordinator").get("/awareness/")
    assert coordinator.status_code == 200
    assert "/awareness/national/" in coordinator.content.decode()


def test_deadlines_falling_overdue_are_counted_by_the_periodic_refresh(
    world: World, landscape: Any
) -> None:
    import datetime as dt

    from django.utils import timezone

    coordinator = client_for(world, "national.coordinator")
    health = {
        row[0]: row
        for row in csv_rows(coordinator.get("/awareness/national/data/team_health.csv", period()))[
            1:
        ]
    }
    assert health["Banking"][3] == "0"  # nothing overdue yet
    # A month later nobody has answered: every open deadline is past due.
    services.refresh_all_incidents(now=timezone.now() + dt.timedelta(days=40))
    health = {
        row[0]: row
        for row in csv_rows(coordinator.get("/awareness/national/data/team_health.csv", period()))[
            1:
        ]
    }
    assert health["Banking"][3] == "1"
    assert int(health["Banking"][4]) >= 1  # SLA deadlines decided (missed)
    assert health["Banking"][6] == "0"  # none met in time


def test_acknowledgement_rates_count_the_deliveries_and_their_answers(
    world: World, settings: Any, tmp_path: Any
) -> None:
    from certhub.advisories import services as advisories
    from certhub.advisories.models import AdvisoryDelivery
    from tests.advisories.conftest import add_contacts, distribute, for_banks, publish

    settings.DATA_DIR = tmp_path
    settings.CERTHUB_CSAF_BASE_URL = "https://cert.example"
    settings.CERTHUB_CSAF_PUBLISHER_NAME = "Example National CERT"
    settings.CERTHUB_CSAF_PUBLISHER_NAMESPACE = "https://cert.example"
    add_contacts(world)
    everyone = publish(world)
    banks = publish(world, **for_banks(title="Banking trojan campaign", severity="high"))
    distribute(everyone)
    distribute(banks)
    for reporter in ("national-bank.reporter", "telco.reporter"):
        advisories.acknowledge_advisory(
            actor=world.users[reporter], advisory=everyone, state="received"
        )
    advisories.acknowledge_advisory(
        actor=world.users["city-bank.reporter"], advisory=banks, state="applied"
    )
    query = period()
    national = csv_rows(
        client_for(world, "national.coordinator").get(
            "/awareness/national/data/acknowledgements.csv", query
        )
    )
    expected = []
    for advisory, answered in ((everyone, 2), (banks, 1)):
        delivered = AdvisoryDelivery.objects.filter(advisory=advisory).count()
        expected.append(
            [
                advisory.tracking_id,
                str(delivered),
                str(answered),
                str(round(100 * answered / delivered)),
                advisory.title,
            ]
        )
    assert national[1:] == sorted(expected, key=lambda row: (-int(row[1]), row[0]))
    council = as_dict(
        csv_rows(
            client_for(world, "council").get("/awareness/council/data/acknowledgements.csv", query)
        )
    )
    # The Council reads what its members may: the TLP:CLEAR advisory, not the AMBER one.
    assert council == {"critical": expected[0][1]}
    # A bank's CERT reads its own branch's advisories only: the National CERT wrote both.
    banking = csv_rows(
        client_for(world, "banking.analyst").get(
            "/awareness/team/banking/data/acknowledgements.csv", query
        )
    )
    assert banking[1:] == []
