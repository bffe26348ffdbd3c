"""The Council's API through the HTTP client with real tokens: readers list and read,
the secretary writes, an addressed CERT's coordinator records follow-up, everyone else
gets 404; list endpoints cost a fixed number of queries."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from certhub.awareness import council_services as services
from certhub.awareness.council_choices import RecommendationKind
from certhub.awareness.council_models import Recommendation
from tests.awareness.council_fixtures import Council, seat_council, today
from tests.factories import World, bearer_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def council(world: World) -> Council:
    return seat_council(world)


def post(client: Any, url: str, body: dict[str, Any]) -> Any:
    return client.post(url, body, content_type="application/json")


def test_the_secretary_enters_a_recommendation_through_the_api(
    world: World, council: Council
) -> None:
    client = bearer_client(council.users["secretary"])
    response = post(
        client,
        "/api/v1/council/recommendations",
        {
            "title": "Notify sectoral CERTs of CII incidents",
            "text": "Copy the sectoral CERT on every CII incident within 6 hours.",
            "owner": "National CERT",
            "kind": "cert_notification",
            "addressed_teams": ["banking", "telecom"],
            "due_date": (today() + dt.timedelta(days=30)).isoformat(),
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["reference"] == f"REC-{today().year}-001"
    assert sorted(body["addressed_teams"]) == ["banking", "telecom"]
    assert body["status"] == "open"
    # The telecom CERT's coordinator reports progress on it.
    follow = post(
        bearer_client(world.users["telecom.coordinator"]),
        f"/api/v1/council/recommendations/{body['id']}/follow-ups",
        {"text": "Duty desk copies the CII CERT now.", "status": "in_progress"},
    )
    assert follow.status_code == 201, follow.content
    assert follow.json()["team"] == "telecom"
    detail = bearer_client(council.users["member"]).get(
        f"/api/v1/council/recommendations/{body['id']}"
    )
    assert detail.json()["status"] == "in_progress"
    assert detail.json()["follow_ups"][0]["author"] == "telecom.coordinator"


def test_api_refusals(world: World, council: Council) -> None:
    rec = services.add_recommendation(
        actor=council.users["secretary"], title="t", text="t", owner="o"
    )
    body = {"title": "x", "text": "y", "owner": "z"}
    member = bearer_client(council.users["member"])
    assert post(member, "/api/v1/council/recommendations", body).status_code == 403
    reporter = bearer_client(world.users["national-bank.reporter"])
    assert post(reporter, "/api/v1/council/recommendations", body).status_code == 404
    assert reporter.get("/api/v1/council/recommendations").status_code == 404
    assert reporter.get(f"/api/v1/council/recommendations/{rec.pk}").status_code == 404
    banking = bearer_client(world.users["banking.coordinator"])
    # A coordinator with nothing addressed to it sees an empty register, not the entry.
    assert banking.get("/api/v1/council/recommendations").json()["items"] == []
    response = post(banking, f"/api/v1/council/recommendations/{rec.pk}/follow-ups", {"text": "x"})
    assert response.status_code == 404
    bad = post(
        bearer_client(council.users["secretary"]),
        "/api/v1/council/recommendations",
        {**body, "kind": "cert_notification", "addressed_teams": ["no-such-cert"]},
    )
    assert bad.status_code == 400
    assert "no-such-cert" in bad.json()["detail"]
    assert Recommendation.objects.count() == 1


def test_the_chair_changes_a_register_entry(world: World, council: Council) -> None:
    rec = services.add_recommendation(
        actor=council.users["secretary"], title="t", text="t", owner="o"
    )
    response = bearer_client(council.users["chair"]).patch(
        f"/api/v1/council/recommendations/{rec.pk}",
        {"status": "rejected", "owner": "Ministry of Interior"},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    assert (response.json()["status"], response.json()["owner"]) == (
        "rejected",
        "Ministry of Interior",
    )
    refused = bearer_client(council.users["member"]).patch(
        f"/api/v1/council/recommendations/{rec.pk}",
        {"status": "implemented"},
        content_type="application/json",
    )
    assert refused.status_code == 403


def test_members_meetings_and_disputes_read_through_the_api(world: World, council: Council) -> None:
    secretary = council.users["secretary"]
    meeting = services.schedule_meeting(actor=secretary, held_on=today(), title="Sitting")
    services.record_attendance(
        actor=secretary, meeting=meeting, attendance={council.members["chair"].pk: "present"}
    )
    client = bearer_client(council.users["member"])
    members = client.get("/api/v1/council/members").json()["items"]
    assert {m["username"]: m["in_office"] for m in members} == {
        "council.chair": True,
        "council.secretary": True,
        "council.member": True,
        "council.former": False,
    }
    detail = client.get(f"/api/v1/council/meetings/{meeting.pk}").json()
    assert detail["attendance"] == [
        {
            "member_id": council.members["chair"].pk,
            "username": "council.chair",
            "seat": "chair",
            "status": "present",
        }
    ]
    created = post(
        bearer_client(secretary),
        "/api/v1/council/disputes",
        {"subject": "Sharing refused", "parties": ["punjab", "sindh"], "raised_on": "2026-11-01"},
    )
    assert created.status_code == 201, created.content
    disputes = client.get("/api/v1/council/disputes").json()["items"]
    assert [d["reference"] for d in disputes] == ["DSP-2026-001"]
    assert (
        bearer_client(world.users["punjab.coordinator"])
        .get(f"/api/v1/council/disputes/{created.json()['id']}")
        .status_code
        == 200
    )
    assert (
        bearer_client(world.users["telecom.coordinator"])
        .get(f"/api/v1/council/disputes/{created.json()['id']}")
        .status_code
        == 404
    )
    one_party = post(
        bearer_client(secretary),
        "/api/v1/council/disputes",
        {"subject": "x", "parties": ["punjab", "punjab"], "raised_on": "2026-11-01"},
    )
    assert one_party.status_code == 400


def test_the_register_costs_the_same_queries_for_3_or_30_entries(
    world: World, council: Council
) -> None:
    client = bearer_client(council.users["member"])

    def add(n: int) -> None:
        for i in range(n):
            services.add_recommendation(
                actor=council.users["secretary"],
                title=f"r{i}",
                text="t",
                owner="o",
                kind=RecommendationKind.CERT_NOTIFICATION,
                addressed_teams=[world.teams["punjab"], world.teams["sindh"]],
            )

    add(3)
    client.get("/api/v1/council/recommendations")  # warm the token and session paths
    with CaptureQueriesContext(connection) as few:
        assert len(client.get("/api/v1/council/recommendations").json()["items"]) == 3
    add(27)
    with CaptureQueriesContext(connection) as many:
        assert len(client.get("/api/v1/council/recommendations").json()["items"]) == 30
    assert len(many) == len(few)
