"""STIX 2.1 through the API: the National Bank's incident exported as a bundle that the
OASIS validator accepts in strict mode (library and command line), a search result as a
bundle, and bundles imported into incidents with a report of what was taken and refused."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import stix2
from stix2validator import ValidationOptions, validate_string

from certhub.incidents.models import Incident
from certhub.intel.stix import TLP2_EXTENSION, TLP2_MARKING_IDS
from tests.factories import World, bearer_client, make_incident

INDICATORS = (
    "198.51.100.23 2001:db8::dead c2-relay[.]example hxxps://c2-relay.example/beacon "
    "drop@c2-relay.example 44d88612fea8a8f36de82e1278abb02f CVE-2024-3400 AS64512 "
    "invoice.pdf.exe 192.0.2.0/28"
)


def bank_incident(world: World, **fields: Any) -> Incident:
    return make_incident(
        world.users["national-bank.reporter"],
        title="Beaconing from a teller workstation",
        observables_text=INDICATORS,
        category="malicious-code",
        type="c2-server",
        **fields,
    )


def strictly_valid(bundle: dict[str, Any]) -> None:
    results = validate_string(json.dumps(bundle), ValidationOptions(version="2.1", strict=True))
    problems = [str(e) for e in [*(results.errors or []), *(results.warnings or [])]]
    assert results.is_valid, problems


def test_incident_bundle_is_strictly_valid_with_tlp2_markings(world: World) -> None:
    incident = bank_incident(world)
    answer = bearer_client(world.users["banking.analyst"]).get(
        f"/api/v1/incidents/{incident.reference}/stix"
    )
    assert answer.status_code == 200
    bundle = answer.json()
    strictly_valid(bundle)
    by_type: dict[str, list[dict[str, Any]]] = {}
    for obj in bundle["objects"]:
        by_type.setdefault(obj["type"], []).append(obj)
    assert len(by_type["indicator"]) == 9  # every observable but the CVE
    assert len(by_type["sighting"]) == 9
    assert len(by_type["observed-data"]) == 9
    (vulnerability,) = by_type["vulnerability"]
    assert vulnerability["name"] == "CVE-2024-3400"
    (identity,) = by_type["identity"]
    assert identity["name"] == "Banking"
    (marking,) = by_type["marking-definition"]
    assert marking["id"] == TLP2_MARKING_IDS["AMBER"]
    assert marking["extensions"][TLP2_EXTENSION]["tlp_2_0"] == "amber"
    patterns = {i["pattern"] for i in by_type["indicator"]}
    assert "[url:value = 'https://c2-relay.example/beacon']" in patterns
    assert "[file:hashes.'MD5' = '44d88612fea8a8f36de82e1278abb02f']" in patterns
    assert "[autonomous-system:number = 64512]" in patterns
    assert all(o["object_marking_refs"] == [marking["id"]] for o in by_type["indicator"])
    assert all(s["where_sighted_refs"] == [identity["id"]] for s in by_type["sighting"])
    # Exported twice: the same objects (stable ids), so TAXII sees versions, not copies.
    again = bearer_client(world.users["national.analyst"]).get(
        f"/api/v1/incidents/{incident.reference}/stix"
    )
    assert {o["id"] for o in again.json()["objects"]} == {o["id"] for o in bundle["objects"]}


def test_the_validator_command_line_accepts_the_export(world: World, tmp_path: Path) -> None:
    incident = bank_incident(world, tlp="GREEN")
    bundle = bearer_client(world.users["banking.analyst"]).get(
        f"/api/v1/incidents/{incident.reference}/stix"
    )
    path = tmp_path / "bundle.json"
    path.write_text(bundle.content.decode())
    validator = Path(sys.executable).parent / "stix2_validator"
    run = subprocess.run(
        [str(validator), "--version", "2.1", "--strict", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr


def test_another_branch_gets_404_and_a_red_incident_is_refused(world: World) -> None:
    incident = bank_incident(world)
    for username in ("telecom.analyst", "punjab.analyst", "telco.reporter", "council"):
        answer = bearer_client(world.users[username]).get(
            f"/api/v1/incidents/{incident.reference}/stix"
        )
        assert answer.status_code == 404, username
    red = bank_incident(world, tlp="RED")
    national = bearer_client(world.users["national.analyst"]).get(
        f"/api/v1/incidents/{red.reference}/stix"
    )
    assert national.status_code == 403  # sees the redacted incident, not its content
    assert "TLP:RED" in national.json()["detail"]
    reporter = bearer_client(world.users["national-bank.reporter"]).get(
        f"/api/v1/incidents/{red.reference}/stix"
    )
    assert reporter.status_code == 200  # a named recipient
    strictly_valid(reporter.json())


def test_search_result_bundle_shows_only_what_the_user_may_see(world: World) -> None:
    bank_incident(world)
    make_incident(
        world.users["telco.reporter"],
        title="Same relay seen at the telco",
        observables_text="c2-relay[.]example",
    )
    national = bearer_client(world.users["national.analyst"]).post(
        "/api/v1/intel/stix/search",
        data={"values": "c2-relay[.]example 203.0.113.250"},
        content_type="application/json",
    )
    assert national.status_code == 200
    strictly_valid(national.json())
    sightings = [o for o in national.json()["objects"] if o["type"] == "sighting"]
    assert len(sightings) == 2  # the bank's and the telco's
    banking = bearer_client(world.users["banking.analyst"]).post(
        "/api/v1/intel/stix/search",
        data={"values": "c2-relay.example"},
        content_type="application/json",
    )
    indicators = [o for o in banking.json()["objects"] if o["type"] == "indicator"]
    assert len(indicators) == 1  # the telco's incident is not the Banking CERT's to see


def test_import_into_an_incident_reports_taken_and_refused(world: World) -> None:
    incident = bank_incident(world, tlp="AMBER")
    peer = stix2.v21.Bundle(
        objects=[
            stix2.v21.Indicator(
                pattern="[ipv4-addr:value = '203.0.113.5'] OR [domain-name:value = 'Peer.Example']",
                pattern_type="stix",
                valid_from="2026-11-01T00:00:00Z",
            ),
            stix2.v21.Indicator(
                pattern="[network-traffic:dst_port = 4444]",
                pattern_type="stix",
                valid_from="2026-11-01T00:00:00Z",
            ),
            stix2.v21.Indicator(
                pattern="[domain-name:value = 'red.example']",
                pattern_type="stix",
                valid_from="2026-11-01T00:00:00Z",
                object_marking_refs=[TLP2_MARKING_IDS["RED"]],
            ),
            stix2.v21.Malware(name="Beacon", is_family=True),
        ]
    )
    answer = bearer_client(world.users["banking.analyst"]).post(
        "/api/v1/intel/stix/import",
        data={"bundle": json.loads(peer.serialize()), "reference": incident.reference},
        content_type="application/json",
    )
    assert answer.status_code == 200
    report = answer.json()
    assert report["reference"] == incident.reference
    assert report["created"] is False
    assert sorted(report["taken"]) == ["domain:peer.example", "ipv4:203.0.113.5"]
    reasons = " ".join(r["reason"] for r in report["refused"])
    assert "equality patterns" in reasons
    assert "malware" in reasons
    assert "stricter than the incident" in reasons
    values = set(incident.observables.values_list("value", flat=True))
    assert {"203.0.113.5", "peer.example"} <= values
    assert "red.example" not in values


def test_import_opens_a_new_incident_and_other_branches_cannot_add(world: World) -> None:
    bundle = {
        "type": "bundle",
        "id": "bundle--6f8d2f0a-0c36-4d8a-9e0b-6b1b6a0e7b1d",
        "objects": [
            {
                "type": "ipv4-addr",
                "spec_version": "2.1",
                "id": "ipv4-addr--1d1b1a8e-61f3-5b3e-9c41-1ae2b6a5a1f2",
                "value": "198.51.100.99",
            }
        ],
    }
    answer = bearer_client(world.users["banking.analyst"]).post(
        "/api/v1/intel/stix/import",
        data={"bundle": bundle, "title": "Peer CERT report", "reporting_org": "national-bank"},
        content_type="application/json",
    )
    assert answer.status_code == 201, answer.json()
    created = Incident.objects.get(reference=answer.json()["reference"])
    assert created.title == "Peer CERT report"
    assert list(created.observables.values_list("value", flat=True)) == ["198.51.100.99"]
    refused = bearer_client(world.users["telecom.analyst"]).post(
        "/api/v1/intel/stix/import",
        data={"bundle": bundle, "reference": created.reference},
        content_type="application/json",
    )
    assert refused.status_code == 404
    garbage = bearer_client(world.users["banking.analyst"]).post(
        "/api/v1/intel/stix/import",
        data={"bundle": {"type": "report"}},
        content_type="application/json",
    )
    assert garbage.status_code == 400
