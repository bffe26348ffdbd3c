"""The TAXII 2.1 server driven by real clients (taxii2-client, stix2's
TAXIICollectionSource) against a running certhub: the Banking CERT shares a bank
incident's indicators to its collection; its constituents read them as TLP allows;
another branch of the tree never sees the collection."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
import requests
import stix2
from taxii2client.v21 import Collection, Server, as_pages

from certhub.accounts.services import create_token
from certhub.intel.exchange_models import Collection as CollectionRow
from certhub.intel.exchange_models import SharedObject
from certhub.intel.exchange_services import open_collection, share_incident
from tests.factories import PASSWORD, World, make_incident

MEDIA = "application/taxii+json;version=2.1"


def token_of(user: Any) -> str:
    return create_token(actor=user, user=user, name="taxii")[1]


def bearer(user: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_of(user)}", "Accept": MEDIA}


def bank_incident(world: World, **fields: Any) -> Any:
    return make_incident(
        world.users["national-bank.reporter"],
        title="C2 traffic from the payment network",
        observables_text="203.0.113.77 evil-c2[.]example hxxp://evil-c2.example/gate.php",
        **fields,
    )


@pytest.fixture
def shared(world: World) -> tuple[Any, CollectionRow]:
    incident = bank_incident(world)
    report = share_incident(
        actor=world.users["banking.analyst"], reference=incident.reference, target="team:banking"
    )
    assert report.added
    assert not report.refused
    return incident, CollectionRow.objects.get(pk=report.collection_id)


def test_discovery_api_root_and_collections_with_taxii2_client(
    live_server: Any, shared: tuple[Any, CollectionRow], world: World
) -> None:
    _incident, collection = shared
    token = token_of(world.users["national-bank.reporter"])
    # HTTP Basic with the username and an API token as the password.
    server = Server(f"{live_server.url}/taxii2/", user="national-bank.reporter", password=token)
    assert server.title == "certhub TAXII 2.1 server"
    (root,) = server.api_roots
    assert root.versions == [MEDIA]
    titles = {c.title: c for c in root.collections}
    assert collection.title in titles
    readable = titles[collection.title]
    assert readable.can_read
    assert not readable.can_write


def test_a_bank_reads_its_cert_indicators_with_basic_password_auth(
    live_server: Any, shared: tuple[Any, CollectionRow], world: World
) -> None:
    _incident, collection = shared
    url = f"{live_server.url}/taxii2/api/collections/{collection.pk}/"
    reader = Collection(url, user="city-bank.reporter", password=PASSWORD)
    envelope = reader.get_objects()
    types = {o["type"] for o in envelope["objects"]}
    assert {"indicator", "observed-data", "sighting", "identity", "marking-definition"} <= types
    patterns = {o["pattern"] for o in envelope["objects"] if o["type"] == "indicator"}
    assert "[ipv4-addr:value = '203.0.113.77']" in patterns
    assert "[domain-name:value = 'evil-c2.example']" in patterns
    # stix2's data source over TAXII: a real query by type.
    source = stix2.TAXIICollectionSource(reader)
    indicators = source.query([stix2.Filter("type", "=", "indicator")])
    assert len(indicators) == 3


def test_amber_strict_indicators_stay_with_the_team_not_its_constituents(
    live_server: Any, world: World
) -> None:
    incident = bank_incident(world, tlp="AMBER+STRICT")
    share_incident(
        actor=world.users["banking.analyst"], reference=incident.reference, target="team:banking"
    )
    collection = CollectionRow.objects.get(kind="team", team=world.teams["banking"])
    url = f"{live_server.url}/taxii2/api/collections/{collection.pk}/"
    analyst = Collection(
        url, user="banking.analyst", password=token_of(world.users["banking.analyst"])
    )
    national = Collection(
        url, user="national.analyst", password=token_of(world.users["national.analyst"])
    )
    other_bank = Collection(url, user="city-bank.reporter", password=PASSWORD)
    indicators = lambda c: [  # noqa: E731
        o for o in c.get_objects().get("objects", []) if o["type"] == "indicator"
    ]
    assert len(indicators(analyst)) == 3
    assert len(indicators(national)) == 3  # the team above is the same organization
    assert indicators(other_bank) == []  # a client of the team: AMBER+STRICT never reaches it


def test_telecom_and_punjab_cannot_see_the_banking_collection(
    live_server: Any, shared: tuple[Any, CollectionRow], world: World
) -> None:
    _incident, collection = shared
    indicator = SharedObject.objects.filter(collection=collection, stix_type="indicator").first()
    assert indicator is not None
    base = f"{live_server.url}/taxii2/api/collections/{collection.pk}/"
    for username in ("telecom.analyst", "punjab.analyst", "telco.reporter", "council"):
        user = world.users[username]
        for url in (
            base,
            f"{base}objects/",
            f"{base}manifest/",
            f"{base}objects/{indicator.stix_id}/",
            f"{base}objects/{indicator.stix_id}/versions/",
        ):
            answer = requests.get(url, headers=bearer(user), timeout=10)
            assert answer.status_code == 404, (username, url)
            assert answer.headers["Content-Type"] == MEDIA
        post = requests.post(
            f"{base}objects/",
            headers=bearer(user) | {"Content-Type": MEDIA},
            data=json.dumps({"objects": [indicator.body]}),
            timeout=10,
        )
        assert post.status_code == 404, username
        listing = requests.get(
            f"{live_server.url}/taxii2/api/collections/", headers=bearer(user), timeout=10
        ).json()
        assert str(collection.pk) not in json.dumps(listing)


def test_content_negotiation_and_authentication(
    live_server: Any, shared: tuple[Any, CollectionRow], world: World
) -> None:
    _incident, collection = shared
    base = f"{live_server.url}/taxii2/api/collections/{collection.pk}/objects/"
    user = world.users["banking.analyst"]
    assert requests.get(base, headers={"Accept": MEDIA}, timeout=10).status_code == 401
    wrong = bearer(user) | {"Accept": "application/json"}
    assert requests.get(base, headers=wrong, timeout=10).status_code == 406
    ok = requests.get(base, headers=bearer(user), timeout=10)
    assert ok.status_code == 200
    assert ok.headers["Content-Type"] == MEDIA
    assert "X-TAXII-Date-Added-First" in ok.headers
    post = requests.post(
        base,
        headers=bearer(user) | {"Content-Type": "application/json"},
        data=json.dumps({"objects": []}),
        timeout=10,
    )
    assert post.status_code == 415
    bad_password = requests.get(
        base, auth=("banking.analyst", "wrong"), headers={"Accept": MEDIA}, timeout=10
    )
    assert bad_password.status_code == 401
    # CERT staff fall under the MFA policy: their password alone never opens TAXII
    # (a token as the password does).
    staff_password = requests.get(
        base, auth=("banking.analyst", PASSWORD), headers={"Accept": MEDIA}, timeout=10
    )
    assert staff_password.status_code == 401
    staff_token = requests.get(
        base, auth=("banking.analyst", token_of(user)), headers={"Accept": MEDIA}, timeout=10
    )
    assert staff_token.status_code == 200


def test_filters_manifest_and_versions(
    live_server: Any, shared: tuple[Any, CollectionRow], world: World
) -> None:
    _incident, collection = shared
    url = f"{live_server.url}/taxii2/api/collections/{collection.pk}/"
    reader = Collection(
        url, user="banking.analyst", password=token_of(world.users["banking.analyst"])
    )
    indicators = reader.get_objects(type="indicator")["objects"]
    assert {o["type"] for o in indicators} == {"indicator"}
    one = indicators[0]["id"]
    assert [o["id"] for o in reader.get_objects(id=one)["objects"]] == [one]
    assert reader.get_object(one)["objects"][0]["id"] == one
    versions = reader.object_versions(one)["versions"]
    assert len(versions) == 1
    manifest = reader.get_manifest(type="indicator")["objects"]
    assert {m["id"] for m in manifest} == {o["id"] for o in indicators}
    assert all(m["media_type"] == "application/stix+json;version=2.1" for m in manifest)
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1)
    assert "objects" not in reader.get_objects(added_after=later)


def test_posting_an_envelope_gives_a_status_and_refuses_red(live_server: Any, world: World) -> None:
    analyst = world.users["banking.analyst"]
    collection = open_collection(actor=analyst, target="team:banking")
    url = f"{live_server.url}/taxii2/api/collections/{collection.pk}/"
    writer = Collection(
        url, user="banking.analyst", password=token_of(world.users["banking.analyst"])
    )
    green = stix2.v21.Indicator(
        pattern="[domain-name:value = 'phish.example']",
        pattern_type="stix",
        valid_from="2026-11-01T00:00:00Z",
        object_marking_refs=["marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"],
    )
    red = stix2.v21.Indicator(
        pattern="[domain-name:value = 'secret.example']",
        pattern_type="stix",
        valid_from="2026-11-01T00:00:00Z",
        object_marking_refs=["marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"],
    )
    status = writer.add_objects(
        stix2.v21.Bundle(objects=[green, red]).serialize(), wait_for_completion=False
    )
    assert status.status == "complete"
    assert status.success_count == 1
    assert status.failure_count == 1
    assert status.failures[0]["id"] == red.id
    stored = SharedObject.objects.get(collection=collection, stix_id=green.id)
    assert stored.tlp == "GREEN"
    # A reporter reads (taxii2-client sees can_write false) and a POST anyway gets 403.
    reader = Collection(url, user="national-bank.reporter", password=PASSWORD)
    assert reader.can_read
    assert not reader.can_write
    refused = requests.post(
        f"{url}objects/",
        auth=("national-bank.reporter", PASSWORD),
        headers={"Accept": MEDIA, "Content-Type": MEDIA},
        data=json.dumps({"objects": [json.loads(green.serialize())]}),
        timeout=10,
    )
    assert refused.status_code == 403
    assert refused.headers["Content-Type"] == MEDIA
    # The status resource is there for the writer, not for others.
    answer = requests.get(
        f"{live_server.url}/taxii2/api/status/{status.id}/",
        auth=("banking.analyst", token_of(analyst)),
        headers={"Accept": MEDIA},
        timeout=10,
    )
    assert answer.json()["success_count"] == 1
    # A second version of the green indicator: the latest by default, both on request.
    newer = green.new_version(name="Phishing kit host")
    writer.add_objects(stix2.v21.Bundle(objects=[newer]).serialize(), wait_for_completion=False)
    latest = writer.get_objects(id=green.id)["objects"]
    assert [o["modified"] for o in latest] == [json.loads(newer.serialize())["modified"]]
    assert len(writer.get_objects(id=green.id, version="all")["objects"]) == 2
    first = writer.get_objects(id=green.id, version="first")["objects"]
    assert first[0]["modified"] == json.loads(green.serialize())["modified"]
    assert len(writer.object_versions(green.id)["versions"]) == 2
    other = requests.get(
        f"{live_server.url}/taxii2/api/status/{status.id}/",
        auth=("telecom.analyst", token_of(world.users["telecom.analyst"])),
        headers={"Accept": MEDIA},
        timeout=10,
    )
    assert other.status_code == 404


def test_paging_through_ten_thousand_objects(live_server: Any, world: World) -> None:
    analyst = world.users["banking.analyst"]
    collection = open_collection(actor=analyst, target="team:banking")
    added = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    rows = []
    for n in range(10_000):
        stix_id = f"indicator--00000000-0000-4000-8000-{n:012d}"
        body = {
            "type": "indicator",
            "spec_version": "2.1",
            "id": stix_id,
            "created": "2026-11-01T00:00:00.000Z",
            "modified": "2026-11-01T00:00:00.000Z",
            "pattern": f"[ipv4-addr:value = '10.{n // 65536}.{n // 256 % 256}.{n % 256}']",
            "pattern_type": "stix",
            "valid_from": "2026-11-01T00:00:00Z",
        }
        rows.append(
            SharedObject(
                collection=collection,
                stix_id=stix_id,
                stix_type="indicator",
                version=added,
                date_added=added + dt.timedelta(milliseconds=n // 3),
                tlp="GREEN",
                body=body,
            )
        )
    SharedObject.objects.bulk_create(rows, batch_size=2000)
    url = f"{live_server.url}/taxii2/api/collections/{collection.pk}/"
    reader = Collection(url, user="city-bank.reporter", password=PASSWORD)
    seen: list[str] = []
    pages = 0
    for envelope in as_pages(reader.get_objects, per_request=1000):
        pages += 1
        seen += [o["id"] for o in envelope.get("objects", [])]
    assert pages == 10
    assert len(seen) == 10_000 == len(set(seen))


def test_object_pages_cost_a_fixed_number_of_queries(
    world: World, django_assert_max_num_queries: Any
) -> None:
    from django.test import Client

    analyst = world.users["banking.analyst"]
    collection = open_collection(actor=analyst, target="team:banking")
    added = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    SharedObject.objects.bulk_create(
        SharedObject(
            collection=collection,
            stix_id=f"indicator--00000000-0000-4000-8000-{n:012d}",
            stix_type="indicator",
            version=added,
            date_added=added,
            tlp="GREEN",
            body={"type": "indicator", "id": f"indicator--{n}"},
        )
        for n in range(300)
    )
    client = Client(headers=bearer(world.users["city-bank.reporter"]))
    url = f"/taxii2/api/collections/{collection.pk}/objects/"
    for limit in (10, 300):
        with django_assert_max_num_queries(8):
            answer = client.get(url, {"limit": limit})
        assert len(answer.json()["objects"]) == limit


def test_garbage_parameters_get_400_never_500(world: World) -> None:
    from django.test import Client

    collection = open_collection(actor=world.users["banking.analyst"], target="team:banking")
    client = Client(headers=bearer(world.users["banking.analyst"]))
    base = f"/taxii2/api/collections/{collection.pk}/"
    for url, params in (
        (f"{base}objects/", {"limit": "-1"}),
        (f"{base}objects/", {"limit": "ten"}),
        (f"{base}objects/", {"next": "!!"}),
        (f"{base}objects/", {"next": "W1tdXQ"}),
        (f"{base}objects/", {"added_after": "yesterday"}),
        (f"{base}objects/", {"match[version]": "2026-99-99T00:00:00Z"}),
        (f"{base}manifest/", {"added_after": "\x00"}),
        (f"{base}objects/x/versions/", {"match[version]": "soon"}),
    ):
        answer = client.get(url, params)
        assert answer.status_code == 400, (url, params, answer.status_code)
        assert answer.json()["http_status"] == "400"
    assert client.get("/taxii2/api/collections/not-a-uuid/").status_code == 404
    assert client.get("/taxii2/other-root/collections/").status_code == 404
    assert client.get("/taxii2/api/status/not-a-uuid/").status_code == 404
    bad_body = client.post(f"{base}objects/", data=b"{not json", content_type=MEDIA)
    assert bad_body.status_code == 400
    not_envelope = client.post(f"{base}objects/", data=b"[1, 2]", content_type=MEDIA)
    assert not_envelope.status_code == 400
    odd = {
        "objects": [
            {"type": "indicator", "id": "indicator--1", "modified": "2026-13-45T00:00:00Z"},
            7,
        ]
    }
    status = client.post(f"{base}objects/", data=json.dumps(odd), content_type=MEDIA)
    assert status.status_code == 202
    assert status.json()["failure_count"] == 2
    assert client.delete(f"{base}objects/").status_code == 405


def test_the_collection_list_costs_a_fixed_number_of_queries(world: World) -> None:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    analyst = world.users["national.analyst"]
    client = Client(headers=bearer(analyst))
    open_collection(actor=analyst, target="national")
    open_collection(actor=world.users["banking.analyst"], target="sector:banking")

    def listed() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as captured:
            answer = client.get("/taxii2/api/collections/")
        assert answer.status_code == 200
        return len(answer.json()["collections"]), len(captured)

    listed()  # the first request of a token also notes its use
    few, queries = listed()
    open_collection(actor=world.users["telecom.analyst"], target="sector:telecom")
    open_collection(actor=analyst, target="team:government")
    more, queries_after = listed()
    assert more > few
    assert queries_after == queries
