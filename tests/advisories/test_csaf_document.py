"""The CSAF 2.0 document certhub publishes, checked field by field, and the TLP mapping."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from certhub.advisories import csaf
from certhub.advisories.models import Advisory
from tests.advisories.conftest import V3_CRITICAL, V4_CRITICAL, publish
from tests.advisories.csaf_checks import check_csaf
from tests.factories import World

pytestmark = pytest.mark.django_db


def published_document(advisory: Advisory) -> dict[str, Any]:
    assert advisory.latest_revision is not None
    document = json.loads(advisory.latest_revision.csaf_document)
    check_csaf(document)
    return document


def test_the_document_of_a_sample_advisory(world: World) -> None:
    advisory = publish(world)
    doc = published_document(advisory)
    meta = doc["document"]
    assert meta["category"] == "csaf_security_advisory"
    assert meta["csaf_version"] == "2.0"
    assert meta["title"] == "Remote code execution in Example HTTP Server"
    assert meta["publisher"] == {
        "category": "coordinator",
        "name": "Example National CERT",
        "namespace": "https://cert.example",
    }
    assert meta["distribution"]["tlp"] == {"label": "WHITE", "url": "https://www.first.org/tlp/"}
    assert meta["aggregate_severity"] == {"text": "Critical"}
    notes = {note["category"]: note["text"] for note in meta["notes"]}
    assert notes["summary"].startswith("A heap overflow")
    assert notes["details"].startswith("## Impact")
    year = advisory.latest_revision.published_at.year  # type: ignore[union-attr]
    filename = advisory.tracking_id.lower() + ".json"
    assert meta["references"] == [
        {
            "category": "self",
            "summary": "This document",
            "url": f"https://cert.example/.well-known/csaf/clear/{year}/{filename}",
        },
        {
            "category": "external",
            "summary": "Vendor advisory",
            "url": "https://vendor.example/security/ESA-2026-01",
        },
    ]
    tracking = meta["tracking"]
    assert tracking["id"] == advisory.tracking_id
    assert tracking["status"] == "final"
    assert tracking["version"] == "1"
    assert tracking["initial_release_date"] == tracking["current_release_date"]
    assert tracking["initial_release_date"].endswith("Z")
    assert tracking["revision_history"] == [
        {"date": tracking["initial_release_date"], "number": "1", "summary": "Initial release"}
    ]
    assert tracking["generator"]["engine"]["name"] == "certhub"

    vendor = doc["product_tree"]["branches"][0]
    assert (vendor["category"], vendor["name"]) == ("vendor", "Example Software")
    server, proxy = vendor["branches"]
    assert (server["category"], server["name"]) == ("product_name", "Example HTTP Server")
    assert server["branches"] == [
        {
            "category": "product_version_range",
            "name": "vers:generic/>=2.4.0|<2.4.58",
            "product": {
                "name": "Example Software Example HTTP Server vers:generic/>=2.4.0|<2.4.58",
                "product_id": "CSAFPID-0001",
            },
        },
        {
            "category": "product_version",
            "name": "2.4.58",
            "product": {
                "name": "Example Software Example HTTP Server 2.4.58",
                "product_id": "CSAFPID-0002",
            },
        },
    ]
    assert proxy["name"] == "Example Proxy"

    first, second = doc["vulnerabilities"]
    assert first["cve"] == "CVE-2026-12345"
    assert second["cve"] == "CVE-2026-12346"
    assert first["product_status"] == {
        "known_affected": ["CSAFPID-0001", "CSAFPID-0003"],
        "fixed": ["CSAFPID-0002", "CSAFPID-0004"],
    }
    (score,) = first["scores"]
    assert score["products"] == ["CSAFPID-0001", "CSAFPID-0003"]
    assert score["cvss_v3"]["vectorString"] == V3_CRITICAL
    assert score["cvss_v3"]["baseScore"] == 9.8
    assert score["cvss_v3"]["baseSeverity"] == "CRITICAL"
    # CSAF 2.0 has no cvss_v4 score: the vector is carried in a note.
    v4_note = [n for n in first["notes"] if n["title"] == "CVSS v4.0"]
    assert v4_note[0]["text"] == f"{V4_CRITICAL} (base score 9.3, Critical)"
    assert not [n for n in second["notes"] if n["title"] == "CVSS v4.0"]
    assert first["remediations"] == [
        {
            "category": "vendor_fix",
            "details": "Update Example HTTP Server to 2.4.58 and Example Proxy to 1.9.3.",
            "product_ids": ["CSAFPID-0001", "CSAFPID-0003"],
        },
        {
            "category": "workaround",
            "details": "Disable the mod_example module.",
            "product_ids": ["CSAFPID-0001", "CSAFPID-0003"],
        },
    ]
    assert first["threats"] == [{"category": "exploit_status", "details": "Exploited in the wild."}]


def test_an_advisory_without_cves_still_has_one_vulnerability(world: World) -> None:
    doc = published_document(
        publish(world, cves=[], products=[{"vendor": "Acme", "product": "Router"}])
    )
    (vulnerability,) = doc["vulnerabilities"]
    assert "cve" not in vulnerability
    assert vulnerability["title"].startswith("Remote code")
    leaf = doc["product_tree"]["branches"][0]["branches"][0]["branches"][0]
    assert leaf["category"] == "product_version_range"
    assert leaf["name"] == "vers:all/*"


@pytest.mark.parametrize(
    ("tlp", "label", "text"),
    [
        ("CLEAR", "WHITE", "TLP:CLEAR"),
        ("GREEN", "GREEN", "TLP:GREEN"),
        ("AMBER", "AMBER", "TLP:AMBER"),
        ("AMBER+STRICT", "AMBER", "TLP:AMBER+STRICT"),
        ("RED", "RED", "TLP:RED"),
    ],
)
def test_tlp_2_labels_map_to_the_tlp_1_labels_csaf_2_knows(
    world: World, tlp: str, label: str, text: str
) -> None:
    overrides: dict[str, Any] = {"tlp": tlp}
    if tlp == "RED":
        overrides["red_recipient_teams"] = ["banking"]
    distribution = published_document(publish(world, **overrides))["document"]["distribution"]
    assert distribution["tlp"]["label"] == label
    assert distribution["text"].startswith(text)


def test_non_clear_documents_point_to_the_api_not_the_public_folder(world: World) -> None:
    advisory = publish(world, tlp="AMBER")
    self_ref = published_document(advisory)["document"]["references"][0]
    assert self_ref["url"] == (
        f"https://cert.example/api/v1/advisories/{advisory.tracking_id}/csaf"
    )


@pytest.mark.parametrize(
    ("tracking_id", "filename"),
    [
        ("CERT-SA-2026-0001", "cert-sa-2026-0001.json"),
        ("PK CERT/SA:2026#7", "pk_cert_sa_2026_7.json"),
        ("Vendor+SA-2026.01", "vendor+sa-2026_01.json"),
    ],
)
def test_file_names_follow_the_csaf_rules(tracking_id: str, filename: str) -> None:
    assert csaf.csaf_filename(tracking_id) == filename
    moment = dt.datetime(2026, 12, 31, 23, 30, tzinfo=dt.UTC)
    assert csaf.csaf_path(tracking_id, moment) == f"2026/{filename}"
