"""The advisories API: list, detail, CSAF, and the lifecycle with role checks."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from django.test import Client

from certhub.advisories.models import Advisory
from tests.advisories.conftest import V3_CRITICAL, publish, sample
from tests.advisories.csaf_checks import check_csaf
from tests.factories import World, bearer_client

pytestmark = pytest.mark.django_db
URL = "/api/v1/advisories"


def post(client: Client, url: str, body: Any = None) -> Any:
    return client.post(url, data=json.dumps(body or {}), content_type="application/json")


def test_an_analyst_and_a_coordinator_publish_an_advisory_through_the_api(world: World) -> None:
    analyst = bearer_client(world.users["banking.analyst"])
    created = post(analyst, URL, sample(tlp="AMBER", audience_kind="sectors",
                                        audience_sectors=["banking"]))  # fmt: skip
    assert created.status_code == 201, created.content
    body = created.json()
    tracking_id = body["tracking_id"]
    assert body["status"] == "draft"
    assert body["team"] == "banking"
    assert body["cves"][0]["cvss_v3"] == {"vector": V3_CRITICAL, "score": 9.8,
                                          "severity": "Critical"}  # fmt: skip
    assert "<h2>Impact</h2>" in body["details_html"]

    patched = analyst.patch(
        f"{URL}/{tracking_id}", data={"severity": "high"}, content_type="application/json"
    )
    assert patched.status_code == 200
    assert patched.json()["severity"] == "high"
    assert post(analyst, f"{URL}/{tracking_id}/submit").json()["status"] == "review"
    # The analyst may not publish; the banking coordinator may.
    assert post(analyst, f"{URL}/{tracking_id}/publish").status_code == 403
    coordinator = bearer_client(world.users["banking.coordinator"])
    published = post(coordinator, f"{URL}/{tracking_id}/publish", {"change_summary": "First"})
    assert published.status_code == 200, published.content
    assert published.json()["status"] == "published"
    assert published.json()["revisions"][0]["change_summary"] == "First"

    reader = bearer_client(world.users["city-bank.reporter"])
    document = reader.get(f"{URL}/{tracking_id}/csaf")
    assert document.status_code == 200
    assert document["X-Checksum-SHA256"] == hashlib.sha256(document.content).hexdigest()
    check_csaf(document.json())
    assert document.json()["document"]["distribution"]["tlp"]["label"] == "AMBER"

    withdrawn = post(coordinator, f"{URL}/{tracking_id}/withdraw", {"reason": "Duplicate."})
    assert withdrawn.status_code == 200
    assert withdrawn.json()["status"] == "withdrawn"
    assert reader.get(f"{URL}/{tracking_id}").json()["status"] == "withdrawn"


def test_a_reporter_cannot_create_and_bad_input_is_a_400(world: World) -> None:
    reporter = bearer_client(world.users["city-bank.reporter"])
    assert post(reporter, URL, sample()).status_code == 403
    analyst = bearer_client(world.users["banking.analyst"])
    bad = post(
        analyst, URL, sample(cves=[{"cve": "CVE-2026-1234", "cvss_v3_vector": "CVSS:3.1/AV:N"}])
    )
    assert bad.status_code == 400
    assert "CVE-2026-1234" in bad.json()["detail"]
    assert "Missing mandatory" in bad.json()["detail"]
    assert post(analyst, URL, {"title": "no summary"}).status_code == 422
    other_team = post(analyst, URL, sample(team="telecom"))
    assert other_team.status_code == 404


def test_a_reader_cannot_change_an_advisory_it_may_read(world: World) -> None:
    advisory = publish(world)
    telecom = bearer_client(world.users["telecom.analyst"])
    response = telecom.patch(
        f"{URL}/{advisory.tracking_id}", data={"title": "x"}, content_type="application/json"
    )
    assert response.status_code == 403
    assert (
        post(telecom, f"{URL}/{advisory.tracking_id}/withdraw", {"reason": "x"}).status_code == 403
    )


def test_the_author_cannot_publish_through_the_api_either(world: World) -> None:
    coordinator = bearer_client(world.users["national.coordinator"])
    tracking_id = post(coordinator, URL, sample()).json()["tracking_id"]
    post(coordinator, f"{URL}/{tracking_id}/submit")
    refused = post(coordinator, f"{URL}/{tracking_id}/publish")
    assert refused.status_code == 403
    assert "Two-person" in refused.json()["detail"]
    assert post(coordinator, f"{URL}/{tracking_id}/submit").status_code == 409


def test_the_list_is_scoped_paginated_and_costs_a_fixed_number_of_queries(
    world: World, django_assert_max_num_queries: Any
) -> None:
    for n in range(5):
        publish(world, title=f"advisory {n}")
    publish(world, title="amber telco", tlp="AMBER", audience_kind="organizations",
            audience_organizations=["telco"])  # fmt: skip
    client = bearer_client(world.users["national-bank.reporter"])
    seen: list[str] = []
    cursor = ""
    with django_assert_max_num_queries(12):
        page = client.get(URL, {"limit": 2})
    while True:
        body = page.json()
        seen += [item["title"] for item in body["items"]]
        if not body["next_cursor"]:
            break
        cursor = body["next_cursor"]
        page = client.get(URL, {"limit": 2, "cursor": cursor})
    assert sorted(seen) == [f"advisory {n}" for n in range(5)]
    assert Advisory.objects.count() == 6
    assert client.get(URL, {"cursor": "garbage!"}).status_code == 400


def test_a_draft_has_no_csaf_document_yet(world: World) -> None:
    analyst = bearer_client(world.users["national.analyst"])
    tracking_id = post(analyst, URL, sample()).json()["tracking_id"]
    response = analyst.get(f"{URL}/{tracking_id}/csaf")
    assert response.status_code == 404
    assert "not been published" in response.json()["detail"]
