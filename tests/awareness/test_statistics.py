"""GET /api/v1/statistics/incidents and /events, through the HTTP client with API
tokens: each caller counts only what its dashboards show, and another tenant's figures
never appear."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from tests.awareness.conftest import period
from tests.factories import World, bearer_client

pytestmark = pytest.mark.django_db


def counts(client: Client, subject: str, **query: str) -> dict[str, int]:
    response = client.get(f"/api/v1/statistics/{subject}", {**period(), **query})
    assert response.status_code == 200, response.content
    return {item["key"]: item["count"] for item in response.json()["items"]}


def test_national_coordinator_counts_the_whole_country(world: World, landscape: Any) -> None:
    api = bearer_client(world.users["national.coordinator"])
    assert counts(api, "incidents", group_by="sector") == {"banking": 1, "telecom": 1, "health": 1}
    assert counts(api, "incidents", group_by="category") == {"malicious-code": 2, "fraud": 1}
    assert counts(api, "incidents", group_by="team") == {"banking": 1, "telecom": 1, "punjab": 1}
    assert sum(counts(api, "incidents", group_by="priority").values()) == 3
    assert sum(counts(api, "incidents", group_by="week").values()) == 3
    by_org = counts(api, "events", group_by="organization")
    assert by_org["national-bank"] > 0
    assert by_org["telco"] > 0


def test_banking_analyst_never_counts_telecom(world: World, landscape: Any) -> None:
    api = bearer_client(world.users["banking.analyst"])
    assert counts(api, "incidents", group_by="sector") == {"banking": 1}
    assert set(counts(api, "events", group_by="organization")) <= {"national-bank", "city-bank"}
    assert set(counts(api, "events", group_by="team")) == {"banking"}
    response = api.get("/api/v1/statistics/incidents", {"team": "telecom"})
    assert response.status_code == 404


def test_government_cert_counts_its_provincial_certs(world: World, landscape: Any) -> None:
    api = bearer_client(world.users["government.analyst"])
    assert counts(api, "incidents", group_by="team") == {"punjab": 1}
    assert counts(bearer_client(world.users["sindh.analyst"]), "incidents", group_by="team") == {}


def test_reporter_counts_its_own_organization_only(world: World, landscape: Any) -> None:
    api = bearer_client(world.users["national-bank.reporter"])
    assert counts(api, "incidents", group_by="sector") == {"banking": 1}
    assert set(counts(api, "events", group_by="organization")) == {"national-bank"}
    assert set(counts(api, "events", group_by="sector")) == {"banking"}


def test_council_gets_aggregates_but_nothing_per_organization(world: World, landscape: Any) -> None:
    api = bearer_client(world.users["council"])
    response = api.get("/api/v1/statistics/incidents", {**period(), "group_by": "sector"})
    assert response.status_code == 200
    assert response.json()["scope"] == "council"
    assert response.json()["total"] == 3
    refused = api.get("/api/v1/statistics/events", {"group_by": "organization"})
    assert refused.status_code == 400
    assert "organization" in refused.json()["detail"]


def test_statistics_need_an_account_and_valid_input(world: World, landscape: Any) -> None:
    assert Client().get("/api/v1/statistics/incidents").status_code == 401
    assert (
        bearer_client(world.users["nobody"]).get("/api/v1/statistics/incidents").status_code == 404
    )
    api = bearer_client(world.users["national.coordinator"])
    assert api.get("/api/v1/statistics/incidents", {"group_by": "colour"}).status_code == 422
    assert api.get("/api/v1/statistics/incidents", {"start": "2026-02-30"}).status_code == 422
    backwards = api.get(
        "/api/v1/statistics/incidents", {"start": "2026-11-20", "end": "2026-11-01"}
    )
    assert backwards.status_code == 400
    assert api.get("/api/v1/statistics/events", {"sector": "atlantis"}).status_code == 400
