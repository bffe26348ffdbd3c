"""Share to collection from the incident page: the Banking CERT analyst sees the button,
shares the bank incident's indicators to the Banking CERT collection and reads what was
refused; the reporter has no button; another branch gets 404; the collections page
lists what a user may read with its TAXII address."""

from __future__ import annotations

from typing import Any

from django.test import Client

from certhub.intel.exchange_models import SharedObject
from tests.factories import World, make_incident


def signed_in(settings: Any, user: Any) -> Client:
    settings.CERTHUB_REQUIRE_MFA = False
    client = Client()
    client.force_login(user)
    return client


def bank_incident(world: World) -> Any:
    incident = make_incident(
        world.users["national-bank.reporter"],
        title="Phishing wave",
        observables_text="phish-login[.]example 198.51.100.44",
    )
    from certhub.incidents.services import add_observables

    add_observables(
        actor=world.users["banking.analyst"],
        incident=incident,
        text="internal-sinkhole.example",
        internal=True,
    )
    return incident


def test_analyst_shares_from_the_incident_page(world: World, settings: Any) -> None:
    incident = bank_incident(world)
    analyst = signed_in(settings, world.users["banking.analyst"])
    page = analyst.get(f"/incidents/{incident.reference}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Share to collection" in html
    assert f"/taxii2/share/{incident.reference}/" in html
    answer = analyst.post(f"/taxii2/share/{incident.reference}/", {"collection": "team:banking"})
    assert answer.status_code == 200
    html = answer.content.decode()
    # 2 values x (indicator, SCO, observed-data, sighting), the team identity, the marking
    assert "10 STIX objects added" in html
    assert "Internal observables are not shared." in html
    stored = set(
        SharedObject.objects.filter(stix_type="indicator").values_list("body__pattern", flat=True)
    )
    assert stored == {
        "[domain-name:value = 'phish-login.example']",
        "[ipv4-addr:value = '198.51.100.44']",
    }
    again = analyst.post(f"/taxii2/share/{incident.reference}/", {"collection": "team:banking"})
    assert "were there already" in again.content.decode()
    listing = analyst.get("/taxii2/collections/")
    assert "Banking indicators" in listing.content.decode()


def test_national_collection_takes_green_only(world: World, settings: Any) -> None:
    incident = bank_incident(world)  # TLP:AMBER
    analyst = signed_in(settings, world.users["banking.analyst"])
    answer = analyst.post(f"/taxii2/share/{incident.reference}/", {"collection": "national"})
    # The Banking CERT may not write the national collection (the national team owns it).
    assert answer.status_code == 404
    national = signed_in(settings, world.users["national.analyst"])
    answer = national.post(f"/taxii2/share/{incident.reference}/", {"collection": "national"})
    assert answer.status_code == 200
    assert "above this collection&#x27;s ceiling" in answer.content.decode()
    assert not SharedObject.objects.filter(stix_type="indicator").exists()


def test_reporter_has_no_button_and_other_branches_get_404(world: World, settings: Any) -> None:
    incident = bank_incident(world)
    reporter = signed_in(settings, world.users["national-bank.reporter"])
    assert (
        "Share to collection"
        not in reporter.get(f"/incidents/{incident.reference}/").content.decode()
    )
    refused = reporter.post(f"/taxii2/share/{incident.reference}/", {"collection": "team:banking"})
    assert refused.status_code == 403
    for username in ("telecom.analyst", "punjab.coordinator", "telco.reporter"):
        other = signed_in(settings, world.users[username])
        answer = other.post(f"/taxii2/share/{incident.reference}/", {"collection": "team:banking"})
        assert answer.status_code == 404, username
    telecom = signed_in(settings, world.users["telecom.analyst"])
    analyst = signed_in(settings, world.users["banking.analyst"])
    analyst.post(f"/taxii2/share/{incident.reference}/", {"collection": "team:banking"})
    assert "Banking indicators" in analyst.get("/taxii2/collections/").content.decode()
    # The collections page is in the main navigation of whoever has a seat.
    assert 'href="/taxii2/collections/"' in analyst.get("/intel/").content.decode()
    council = signed_in(settings, world.users["council"])
    assert 'href="/taxii2/collections/"' not in council.get("/council/").content.decode()
    assert "Banking indicators" not in telecom.get("/taxii2/collections/").content.decode()
    bad = signed_in(settings, world.users["banking.analyst"]).post(
        f"/taxii2/share/{incident.reference}/", {"collection": "../../etc"}
    )
    assert bad.status_code == 400


def test_share_api_and_collections_api(world: World) -> None:
    from tests.factories import bearer_client

    incident = bank_incident(world)
    analyst = bearer_client(world.users["banking.analyst"])
    answer = analyst.post(
        f"/api/v1/incidents/{incident.reference}/share",
        data={"collection": "team:banking"},
        content_type="application/json",
    )
    assert answer.status_code == 200
    assert len(answer.json()["added"]) == 10
    listed = bearer_client(world.users["city-bank.reporter"]).get("/api/v1/intel/collections")
    assert [c["id"] for c in listed.json()] == [answer.json()["collection_id"]]
    assert (
        bearer_client(world.users["telecom.analyst"]).get("/api/v1/intel/collections").json() == []
    )
    other = bearer_client(world.users["telecom.analyst"]).post(
        f"/api/v1/incidents/{incident.reference}/share",
        data={"collection": "team:banking"},
        content_type="application/json",
    )
    assert other.status_code == 404
