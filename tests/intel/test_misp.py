"""MISP interchange: the bank incident exported as a MISP event (types, categories, tlp:
and rsit: tags, distribution from TLP), MISP event JSON imported, and PyMISP itself
working against certhub's /misp/ API subset on a running server."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
import requests
from pymisp import MISPEvent, PyMISP, PyMISPError

from certhub.accounts.services import create_token
from certhub.incidents.models import Incident
from tests.factories import World, bearer_client, make_incident


def bank_incident(world: World, **fields: Any) -> Incident:
    return make_incident(
        world.users["national-bank.reporter"],
        title="Card skimmer on the web shop",
        observables_text="203.0.113.66 skim[.]example 44d88612fea8a8f36de82e1278abb02f "
        "CVE-2024-3400 AS64512",
        category="information-content-security",
        type="unauthorised-information-access",
        **fields,
    )


def misp_for(live_server: Any, user: Any, root: str = "/misp/") -> PyMISP:
    key = create_token(actor=user, user=user, name="pymisp")[1]
    return PyMISP(f"{live_server.url}{root}", key, ssl=False)


def test_incident_as_misp_event(world: World) -> None:
    incident = bank_incident(world, tlp="GREEN")
    answer = bearer_client(world.users["banking.analyst"]).get(
        f"/api/v1/incidents/{incident.reference}/misp"
    )
    assert answer.status_code == 200
    event = answer.json()["Event"]
    tags = {t["name"] for t in event["Tag"]}
    assert tags == {
        "tlp:green",
        'rsit:information-content-security="unauthorised-information-access"',
    }
    assert event["distribution"] == "2"  # GREEN: connected communities
    by_type = {a["type"]: a for a in event["Attribute"]}
    assert by_type["ip-dst"]["category"] == "Network activity"
    assert by_type["md5"]["category"] == "Payload delivery"
    assert by_type["vulnerability"]["category"] == "External analysis"
    assert by_type["AS"]["value"] == "AS64512"
    # PyMISP's own model reads it without complaint (types and categories it knows).
    loaded = MISPEvent()
    loaded.load(answer.json())
    assert len(loaded.attributes) == 5
    assert (
        bearer_client(world.users["telecom.analyst"])
        .get(f"/api/v1/incidents/{incident.reference}/misp")
        .status_code
        == 404
    )


def test_import_misp_event_json(world: World) -> None:
    incident = bank_incident(world)
    event = {
        "Event": {
            "info": "Shared by a peer",
            "Tag": [{"name": "tlp:amber"}],
            "Attribute": [
                {"type": "ip-src", "category": "Network activity", "value": "198.51.100.4"},
                {"type": "hostname", "category": "Network activity", "value": "Relay.Example"},
                {"type": "domain", "value": "red.example", "Tag": [{"name": "tlp:red"}]},
                {"type": "yara", "value": "rule x {condition: true}"},
            ],
        }
    }
    answer = bearer_client(world.users["banking.analyst"]).post(
        "/api/v1/intel/misp/import",
        data={"event": event, "reference": incident.reference},
        content_type="application/json",
    )
    assert answer.status_code == 200
    report = answer.json()
    assert sorted(report["taken"]) == ["domain:relay.example", "ipv4:198.51.100.4"]
    refused = {r["source"]: r["reason"] for r in report["refused"]}
    assert "yara" in refused["yara:rule x {condition: true}"]
    assert "stricter" in refused["domain:red.example"]
    other = bearer_client(world.users["telecom.analyst"]).post(
        "/api/v1/intel/misp/import",
        data={"event": event, "reference": incident.reference},
        content_type="application/json",
    )
    assert other.status_code == 404


# PyMISP joins its paths to the root URL (urljoin): "<certhub>/misp/" keeps the prefix,
# "<certhub>/misp" (as MISP's documentation writes it) drops it; both work.
@pytest.mark.parametrize("root", ["/misp/", "/misp"])
def test_pymisp_connects_adds_views_and_searches(live_server: Any, world: World, root: str) -> None:
    analyst = world.users["banking.analyst"]
    misp = misp_for(live_server, analyst, root)
    assert misp.misp_instance_version["version"]
    assert misp.get_user("me", pythonify=True).email == analyst.email

    event = MISPEvent()
    event.info = "Phishing kit reported by a peer CERT"
    event.add_tag("tlp:amber")
    event.add_attribute("domain", "kit-host.example")
    event.add_attribute("ip-dst", "198.51.100.200")
    created = misp.add_event(event, pythonify=True)
    assert isinstance(created, MISPEvent), created
    incident = Incident.objects.get(pk=int(created.id))
    assert incident.handling_team.slug == "banking"
    assert set(incident.observables.values_list("value", flat=True)) == {
        "kit-host.example",
        "198.51.100.200",
    }

    viewed = misp.get_event(created.id, pythonify=True)
    assert {a.value for a in viewed.attributes} == {"kit-host.example", "198.51.100.200"}
    assert "tlp:amber" in {t.name for t in viewed.tags}

    bank = bank_incident(world)
    found = misp.search(controller="attributes", value="skim.example", pythonify=True)
    assert [a.value for a in found] == ["skim.example"]
    by_type = misp.search(controller="attributes", type_attribute="ip-dst", pythonify=True)
    assert {a.value for a in by_type} == {"198.51.100.200", "203.0.113.66"}
    recent = misp.search(
        controller="attributes",
        value="198.51.100.200",
        timestamp=dt.datetime.now(dt.UTC) - dt.timedelta(hours=1),
        pythonify=True,
    )
    assert len(recent) == 1
    future = misp.search(
        controller="attributes",
        value="198.51.100.200",
        timestamp=dt.datetime.now(dt.UTC) + dt.timedelta(hours=1),
        pythonify=True,
    )
    assert future == []
    events = misp.search(controller="events", tags=["tlp:amber"], pythonify=True)
    assert {int(e.id) for e in events} == {incident.pk, bank.pk}
    rsit = misp.search(
        controller="events", tags=["rsit:information-content-security"], pythonify=True
    )
    assert [int(e.id) for e in rsit] == [bank.pk]


def test_pymisp_of_another_branch_sees_nothing(live_server: Any, world: World) -> None:
    incident = bank_incident(world)
    misp = misp_for(live_server, world.users["telecom.analyst"])
    missing = misp.get_event(incident.pk)
    assert missing["errors"][0] == 404
    assert misp.search(controller="events", value="skim.example") == []
    assert misp.search(controller="attributes", value="skim.example")["Attribute"] == []


def test_garbage_searches_get_400(world: World) -> None:
    from django.test import Client

    user = world.users["banking.analyst"]
    client = Client(headers={"Authorization": create_token(actor=user, user=user, name="m")[1]})
    for body in (
        {"timestamp": "999999999999"},
        {"timestamp": "yesterday"},
        {"limit": "many"},
        {"page": float("inf")},  # json.dumps writes Infinity, json.loads reads it
        {"page": 10**30},
        {"returnFormat": "stix-xml"},
        [1, 2],
    ):
        answer = client.post(
            "/misp/attributes/restSearch", data=json.dumps(body), content_type="application/json"
        )
        assert answer.status_code == 400, body
    deep = b"[" * 100_000 + b"]" * 100_000
    assert (
        client.post("/misp/events/add", data=deep, content_type="application/json").status_code
        == 400
    )
    assert client.get("/misp/events/view/not-a-number").status_code == 404


def test_a_wrong_key_is_refused(live_server: Any) -> None:
    answer = requests.get(
        f"{live_server.url}/misp/servers/getVersion",
        headers={"Authorization": "chb_not-a-key", "Accept": "application/json"},
        timeout=10,
    )
    assert answer.status_code == 403
    with pytest.raises(PyMISPError, match=r"403|Authentication|connect"):
        PyMISP(f"{live_server.url}/misp/", "chb_not-a-key", ssl=False)


def test_a_reporter_cannot_find_its_incident_by_a_cert_internal_value(world: World) -> None:
    from django.test import Client

    from certhub.incidents.services import add_observables

    incident = bank_incident(world)
    add_observables(
        actor=world.users["banking.analyst"],
        incident=incident,
        items=[("domain", "internal-lead.example")],
        internal=True,
    )

    def events_found(username: str, value: str) -> list[Any]:
        user = world.users[username]
        key = create_token(actor=user, user=user, name="m")[1]
        answer = Client(headers={"Authorization": key}).post(
            "/misp/events/restSearch",
            data=json.dumps({"value": value}),
            content_type="application/json",
        )
        assert answer.status_code == 200
        return list(answer.json()["response"])

    assert len(events_found("banking.analyst", "internal-lead.example")) == 1
    # The reporter sees its incident, but the internal value must not lead to it.
    assert events_found("national-bank.reporter", "internal-lead.example") == []
    assert len(events_found("national-bank.reporter", "skim.example")) == 1


def test_a_reporters_search_costs_the_same_for_one_event_or_many(world: World) -> None:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    user = world.users["national-bank.reporter"]
    client = Client(headers={"Authorization": create_token(actor=user, user=user, name="m")[1]})

    def search() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as captured:
            answer = client.post(
                "/misp/events/restSearch",
                data=json.dumps({"type": "domain"}),
                content_type="application/json",
            )
        assert answer.status_code == 200
        return len(answer.json()["response"]), len(captured)

    bank_incident(world)
    search()  # the first request of a token also notes its use
    one, queries = search()
    for _ in range(4):
        bank_incident(world)
    five, queries_after = search()
    assert (one, five) == (1, 5)
    assert queries_after == queries
