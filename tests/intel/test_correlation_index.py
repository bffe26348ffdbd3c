"""The correlation index as analysts use it: values match across incidents however they
were written (defanged, upper case, long IPv6), an address matches the networks around
it and a network the addresses inside, a subdomain its parent domain, a URL its host;
the index follows observables as they come and go; common values stop linking; TLP:RED
stays with its recipients; and every page and endpoint refuses who may not see."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.test import Client, TestCase

from certhub.incidents import services as incidents
from certhub.incidents.models import Incident, Observable
from certhub.intel.models import IndicatorFlag, Sighting
from tests.factories import World, bearer_client, make_incident

pytestmark = pytest.mark.django_db


def committed() -> Any:
    """Run what waits for the commit (the index follows observables after commit) as a
    real commit would, in these transaction-wrapped tests."""
    return TestCase.captureOnCommitCallbacks(execute=True)


def staff_incident(world: World, team: str, text: str, **fields: Any) -> Incident:
    """An incident a team's analyst records for one of its organizations."""
    org = {"banking": "national-bank", "government": "ministry", "telecom": "telco"}[team]
    with committed():
        return make_incident(
            world.users[f"{team}.analyst"],
            f"Seen at {org}",
            reporting_org=org,
            observables_text=text,
            **fields,
        )


def add_observables(world: World, incident: Incident, text: str, **fields: Any) -> None:
    with committed():
        incidents.add_observables(
            actor=world.users["government.analyst"], incident=incident, text=text, **fields
        )


def correlations(client: Client, incident: Incident) -> dict[str, dict[str, Any]]:
    response = client.get(f"/api/v1/incidents/{incident.reference}/correlations")
    assert response.status_code == 200, response.content
    return {c["value"]: c for c in response.json()["correlations"]}


def seen_refs(entry: dict[str, Any]) -> list[tuple[str, str]]:
    return [(s["reference"], s["via"]) for s in entry["seen_in"]]


def test_values_match_whatever_way_they_were_written(world: World) -> None:
    bank = staff_incident(
        world,
        "banking",
        "2001:0DB8:0000:0000:0000:0000:0000:0042 and EVIL.Example and "
        "d41d8cd98f00b204e9800998ecf8427e",
    )
    telco = staff_incident(
        world, "telecom", "2001:db8::42, evil[.]example, D41D8CD98F00B204E9800998ECF8427E"
    )
    found = correlations(bearer_client(world.users["national.analyst"]), bank)
    assert set(found) == {"2001:db8::42", "evil.example", "d41d8cd98f00b204e9800998ecf8427e"}
    for entry in found.values():
        assert seen_refs(entry) == [(telco.reference, "exact")]
        assert entry["incidents"] == 1


def test_an_address_matches_the_network_around_it_and_the_network_the_address(
    world: World,
) -> None:
    network = staff_incident(world, "government", "Scanning from 203.0.113.0/24")
    address = staff_incident(world, "banking", "Login attempts from 203.0.113.77")
    outside = staff_incident(world, "telecom", "Unrelated 198.18.5.5")
    national = bearer_client(world.users["national.analyst"])
    from_address = correlations(national, address)["203.0.113.77"]
    assert seen_refs(from_address) == [(network.reference, "network")]
    from_network = correlations(national, network)["203.0.113.0/24"]
    assert seen_refs(from_network) == [(address.reference, "inside")]
    assert correlations(national, outside)["198.18.5.5"]["incidents"] == 0


def test_a_subdomain_matches_its_parent_and_a_url_its_host(world: World) -> None:
    parent = staff_incident(world, "government", "Phishing kit on bad-bank.example")
    url = staff_incident(world, "banking", "hxxps://login.bad-bank[.]example/verify?id=1")
    national = bearer_client(world.users["national.analyst"])
    found = correlations(national, url)
    assert seen_refs(found["https://login.bad-bank.example/verify?id=1"]) == [
        (parent.reference, "parent")
    ]
    # And the parent domain's incident finds the URL through the URL's host.
    found = correlations(national, parent)["bad-bank.example"]
    assert found["incidents"] == 0  # a parent does not look down at its subdomains
    search = national.post(
        "/api/v1/intel/search",
        {"text": "login.bad-bank[.]example"},
        content_type="application/json",
    ).json()["results"]
    (entry,) = search
    assert {(s["reference"], s["via"]) for s in entry["seen_in"]} == {
        (url.reference, "exact"),
        (parent.reference, "parent"),
    }


def test_the_index_follows_observables_as_they_come_and_go(world: World) -> None:
    first = staff_incident(world, "banking", "evil-cdn.example")
    second = staff_incident(world, "government", "Nothing yet")
    national = bearer_client(world.users["national.analyst"])
    assert correlations(national, first)["evil-cdn.example"]["incidents"] == 0
    add_observables(world, second, "evil-cdn[.]example")
    assert correlations(national, first)["evil-cdn.example"]["incidents"] == 1
    Observable.objects.filter(incident=second).delete()
    assert not Sighting.objects.filter(incident_id=second.pk).exists()
    assert correlations(national, first)["evil-cdn.example"]["incidents"] == 0


def test_a_common_value_stops_linking(world: World, settings: Any) -> None:
    settings.CERTHUB_INTEL_COMMON_THRESHOLD = 2
    settings.CERTHUB_INTEL_WIDESPREAD_ORGS = 50
    made = [staff_incident(world, "banking", "update.example.com") for _ in range(4)]
    flag = IndicatorFlag.objects.get(value="update.example.com")
    assert flag.common
    assert not flag.widespread
    entry = correlations(bearer_client(world.users["national.analyst"]), made[0])[
        "update.example.com"
    ]
    assert entry["common"] is True
    assert entry["seen_in"] == []


def test_tlp_red_observables_are_neither_shown_nor_counted_to_others(world: World) -> None:
    red = staff_incident(world, "government", "C2 198.18.7.7", tlp="RED")
    bank = staff_incident(world, "banking", "198.18.7.7")
    for username in ("national.analyst", "banking.analyst", "admin"):
        entry = correlations(bearer_client(world.users[username]), bank)["198.18.7.7"]
        assert entry["incidents"] == 0, username
        assert entry["seen_in"] == [], username
    # The government CERT, named on its own RED incident, sees the bank's sighting.
    entry = correlations(bearer_client(world.users["government.analyst"]), red)["198.18.7.7"]
    assert entry["incidents"] == 1
    assert entry["hidden_incidents"] == 1  # counted: it may not open the bank's incident


def test_a_red_observable_on_an_amber_incident_stays_hidden(world: World) -> None:
    ministry = staff_incident(world, "government", "Nothing yet")
    add_observables(world, ministry, "198.18.8.8", tlp="RED")
    bank = staff_incident(world, "banking", "198.18.8.8")
    entry = correlations(bearer_client(world.users["national.analyst"]), bank)["198.18.8.8"]
    assert entry["incidents"] == 0


def test_another_branch_gets_404_for_the_correlations_of_an_incident(world: World) -> None:
    bank = staff_incident(world, "banking", "198.18.9.9")
    for username in ("telecom.analyst", "punjab.analyst", "telco.reporter"):
        response = bearer_client(world.users[username]).get(
            f"/api/v1/incidents/{bank.reference}/correlations"
        )
        assert response.status_code == 404, username
    response = bearer_client(world.users["council"]).get(
        f"/api/v1/incidents/{bank.reference}/correlations"
    )
    assert response.status_code == 404
    assert Client().get(f"/api/v1/incidents/{bank.reference}/correlations").status_code == 401


def test_search_shows_only_what_the_searcher_may_see(world: World) -> None:
    bank = staff_incident(world, "banking", "198.18.10.10")
    staff_incident(world, "telecom", "198.18.10.10")
    text = {"text": "Seen: 198[.]18[.]10[.]10 and nothing else"}
    telecom = bearer_client(world.users["telecom.analyst"]).post(
        "/api/v1/intel/search", text, content_type="application/json"
    )
    (entry,) = telecom.json()["results"]
    assert entry["incidents"] == 2
    assert bank.reference not in str(entry)
    assert entry["hidden_incidents"] == 1
    reporter = bearer_client(world.users["national-bank.reporter"]).post(
        "/api/v1/intel/search", text, content_type="application/json"
    )
    (entry,) = reporter.json()["results"]
    # The bank's reporter sees its own organization's incident, and nothing of others.
    assert entry["incidents"] == 1
    assert seen_refs(entry) == [(bank.reference, "exact")]
    council = bearer_client(world.users["council"]).post(
        "/api/v1/intel/search", text, content_type="application/json"
    )
    assert council.status_code == 404


def test_the_incident_page_and_the_value_page(world: World, client: Client, settings: Any) -> None:
    settings.CERTHUB_REQUIRE_MFA = False
    bank = staff_incident(world, "banking", "198.18.11.11")
    ministry = staff_incident(world, "government", "198.18.11.11")
    client.force_login(world.users["banking.analyst"])
    html = client.get(f"/incidents/{bank.reference}/").content.decode()
    assert "Seen elsewhere" in html
    assert "seen in 1 incident of 1 organizations in 1 sectors" in html
    assert ministry.reference not in html
    client.force_login(world.users["national.analyst"])
    page = client.get("/intel/value/", {"kind": "ipv4", "value": "198.18.11.11"})
    assert page.status_code == 200
    text = page.content.decode()
    assert bank.reference in text
    assert ministry.reference in text
    assert client.get("/intel/value/", {"kind": "ipv4", "value": "nope"}).status_code == 400
    search = client.post("/intel/", {"q": "198[.]18[.]11[.]11"}).content.decode()
    assert ministry.reference in search
    client.force_login(world.users["council"])
    assert client.get("/intel/").status_code == 404
    assert client.get("/intel/value/", {"kind": "ipv4", "value": "198.18.11.11"}).status_code == 404


def test_reindex_rebuilds_the_index_from_what_is_stored(
    world: World, settings: Any, tmp_path: Any
) -> None:
    from django.core.management import call_command

    from certhub.feeds import services as feeds
    from certhub.intel import services
    from certhub.intel.models import IndexedRun
    from tests.intel.test_correlation_story import sinkhole_file

    settings.MEDIA_ROOT = tmp_path / "media"
    bank = staff_incident(world, "banking", "198.18.12.12")
    rows = [("198.51.100.23", "198.18.12.12"), ("198.51.100.24", "198.18.12.12")]
    feeds.ingest_file(path=sinkhole_file(tmp_path, rows))  # no worker: not indexed yet
    Sighting.objects.all().delete()
    call_command("intel", "reindex", stdout=io.StringIO())
    (run,) = IndexedRun.objects.all()
    assert run.events == 2
    # A run is indexed once, however often its task runs.
    assert services.index_feed_run(run_id=run.run_id) is None
    feed_rows = Sighting.objects.filter(value="198.18.12.12", observable__isnull=True)
    assert [(r.organization_id, r.events) for r in feed_rows] == [(world.orgs["telco"].pk, 2)]
    entry = correlations(bearer_client(world.users["national.analyst"]), bank)["198.18.12.12"]
    assert entry["feed_events"] == 2


def test_a_feed_batch_grows_its_days_rows_and_is_counted_from_the_index(world: World) -> None:
    import datetime as dt

    from certhub.intel import index, services
    from certhub.intel.correlation import key_hash

    bank, telco = world.orgs["national-bank"], world.orgs["telco"]
    day = dt.date(2026, 11, 20)
    width = len(services.FEED_FIELDS)

    def batch(*events: tuple[str, str, Any, dt.date]) -> int:
        rows = []
        for field, value, org, when in events:
            row: list[Any] = [None] * width
            row[[name for name, _kind in services.FEED_FIELDS].index(field)] = value
            rows.append((*row, org.pk, org.sector_id, when))
        written, _flags = services.index_feed_aggregates(services.aggregate_events(rows))
        return written

    ip = ("source_ip", "198.18.20.20")
    assert (
        batch((*ip, bank, day), (*ip, bank, day), ("source_url", "http://c2.example/x", telco, day))
        == 3
    )
    # The same value, organization and day grows its row; another day is a new row.
    assert (
        batch(
            (*ip, bank, day),
            (*ip, bank, day),
            (*ip, bank, day),
            (*ip, bank, day + dt.timedelta(days=1)),
        )
        == 2
    )
    rows = Sighting.objects.filter(value="198.18.20.20").order_by("day")
    assert [(r.organization_id, r.day, r.events) for r in rows] == [
        (bank.pk, day, 5),
        (bank.pk, day + dt.timedelta(days=1), 1),
    ]
    assert Sighting.objects.get(value="c2.example").organization_id == telco.pk  # the URL's host

    ip_key = key_hash("ip", "198.18.20.20")
    incident = staff_incident(world, "government", "C2 198.18.20.20")
    red = staff_incident(world, "telecom", "C2 198.18.20.20", tlp="RED")
    summary = index.summaries([ip_key, key_hash("domain", "c2.example"), 12345])
    assert set(summary) == {ip_key, key_hash("domain", "c2.example")}
    assert summary[ip_key].organization_ids == {bank.pk}
    assert summary[ip_key].incident_ids == {incident.pk, red.pk}
    assert summary[ip_key].feed_events == 6
    assert index.names_of([ip_key]) == {ip_key: ("ip", "198.18.20.20")}
    # Exact counts leave the RED incident out; the ministry's incident counts its organization.
    (count,) = services.count_values([ip_key]).values()
    assert count.incident_ids == {incident.pk}
    assert count.organization_ids == {bank.pk, world.orgs["ministry"].pk}
    assert count.feed_events == 6


def test_the_search_page_answers_htmx_with_its_results_only(world: World, settings: Any) -> None:
    settings.CERTHUB_REQUIRE_MFA = False
    client = Client()
    client.force_login(world.users["national.analyst"])
    fragment = client.post("/intel/", {"q": "198.18.1.1"}, headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert "198.18.1.1" in fragment.content.decode()
    assert "<html" not in fragment.content.decode()
    assert "HX-Request" in fragment["Vary"]
    # The back button after htmx's history cache was emptied gets the whole page.
    restored = client.get(
        "/intel/",
        {"q": "198.18.1.1"},
        headers={"HX-Request": "true", "HX-History-Restore-Request": "true"},
    )
    assert "<html" in restored.content.decode()
    assert "<html" in client.get("/intel/", {"q": "198.18.1.1"}).content.decode()
