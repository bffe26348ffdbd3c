"""Citizens report without an account: a tracking code shown once (only its hash is
kept), a reference-free status page, a rate limit per address, a honeypot, size limits
and no way to learn whether an address has an account."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from certhub.incidents.models import Incident
from certhub.incidents.selectors import hash_tracking_code
from certhub.notify.models import OutboundMail
from tests.factories import World

pytestmark = pytest.mark.django_db

URL = "/api/v1/public/reports"
JSON = "application/json"
REPORT = {
    "title": "Fake bank SMS",
    "description": "A text asked for my card PIN.",
    "email": "citizen@example.net",
    "observables": "hxxps://pin-check[.]example",
}


def _post(payload: dict[str, Any], ip: str = "192.0.2.10") -> Any:
    return Client(REMOTE_ADDR=ip).post(URL, payload, content_type=JSON)


def test_a_citizen_reports_and_follows_the_status_with_the_code(world: World) -> None:
    response = _post(REPORT)
    assert response.status_code == 201, response.content
    code = response.json()["tracking_code"]
    incident = Incident.objects.get()
    assert incident.channel == "public"
    assert incident.handling_team.slug == "national"
    assert incident.tracking_code_hash == hash_tracking_code(code)
    assert code not in str(Incident.objects.values().get())
    assert incident.observables.get().value == "https://pin-check.example/"
    status = Client().get(f"{URL}/{code}")
    assert status.status_code == 200
    assert status.json()["status"] == "new"
    assert incident.reference not in status.content.decode()
    assert set(status.json()) == {"status", "status_label", "received_at", "updated_at"}


def test_the_code_is_unguessable_and_a_wrong_one_finds_nothing(world: World) -> None:
    codes = {_post(REPORT, ip=f"192.0.2.{n}").json()["tracking_code"] for n in range(3)}
    assert len(codes) == 3
    assert all(len(c) >= 26 for c in codes)
    assert Client().get(f"{URL}/{'A' * 27}").status_code == 404
    assert Client().get(f"{URL}/short").status_code == 422


def test_the_reporter_gets_an_acknowledgement_and_national_intake_a_notice(world: World) -> None:
    _post(REPORT)
    ack = OutboundMail.objects.get(recipients=["citizen@example.net"])
    assert ack.subject == "[TLP:AMBER] Your report was received"
    assert ack.body.startswith("TLP:AMBER\n")
    notice = OutboundMail.objects.get(kind="incident_reported")
    assert "national.analyst@example.org" in notice.recipients


def test_twenty_rapid_submissions_from_one_address_are_throttled(world: World) -> None:
    answers = [_post(REPORT | {"title": f"Report {n}"}).status_code for n in range(20)]
    assert answers[:5] == [201] * 5
    assert set(answers[5:]) == {429}
    refused = _post(REPORT)
    assert "Too many reports from your network address" in refused.json()["detail"]
    assert Incident.objects.count() == 5
    # Another address is not affected.
    assert _post(REPORT, ip="198.51.100.1").status_code == 201


def test_a_robot_filling_the_honeypot_gets_the_same_answer_and_nothing_is_stored(
    world: World,
) -> None:
    response = _post(REPORT | {"website": "http://spam.example"})
    assert response.status_code == 201
    assert response.json()["tracking_code"]
    assert Incident.objects.count() == 0
    assert Client().get(f"{URL}/{response.json()['tracking_code']}").status_code == 404


def test_answers_do_not_depend_on_whether_the_address_has_an_account(world: World) -> None:
    known = _post(REPORT | {"email": "telco.reporter@example.org"}, ip="192.0.2.20")
    unknown = _post(REPORT | {"email": "someone@example.net"}, ip="192.0.2.21")
    assert known.status_code == unknown.status_code == 201
    assert set(known.json()) == set(unknown.json())
    assert known.json()["message"] == unknown.json()["message"]


@pytest.mark.parametrize(
    "payload",
    [
        {"title": "", "description": "x"},
        {"title": "x" * 201, "description": "x"},
        {"title": "x", "description": "x" * 20_001},
        {"title": "x"},
        {"title": "x", "description": "y", "email": "x" * 300},
    ],
)
def test_oversized_or_missing_fields_are_refused(world: World, payload: dict) -> None:
    assert _post(payload).status_code == 422
    assert Incident.objects.count() == 0


def test_the_public_endpoints_need_no_account_and_reveal_no_incident(world: World) -> None:
    assert Client().get("/api/v1/incidents").status_code == 401
    code = _post(REPORT).json()["tracking_code"]
    national = Client().get(f"{URL}/{code}").json()
    assert "handling_team" not in national
    assert "title" not in national
