"""The story of issue 3, through the API with Bearer tokens: a bank reports an incident
with evidence and pasted indicators; the Banking CERT triages it and scores it High, so
it escalates to the National CERT by rule; the National CERT brings in the Telecom
CERT; the Punjab CERT never sees it; the reporter reads the shared note but not the
internal one; every step is on the timeline and the audit chain holds."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from tests.factories import HIGH_SEVERITY, TINY_PNG, World, bearer_client

pytestmark = pytest.mark.django_db

HIGH = HIGH_SEVERITY
PNG = TINY_PNG


def test_a_bank_incident_from_report_to_national_coordination(world: World) -> None:
    reporter = bearer_client(world.users["national-bank.reporter"])
    created = reporter.post(
        "/api/v1/incidents",
        {
            "title": "Phishing wave against our customers",
            "description": "Customers received mails linking to a fake login page.",
            "category": "fraud",
            "type": "phishing",
            "observables": "Landing page hxxps://login-nationalbank[.]example/verify, "
            "sender alerts(at)nationa1bank[.]example, host 198.51.100[.]23",
        },
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    incident = created.json()
    reference = incident["reference"]
    assert incident["handling_team"] == "banking"
    assert incident["reporting_org"] == "national-bank"
    assert incident["classification"]["machine_tag"] == 'rsit:fraud="phishing"'
    url = f"/api/v1/incidents/{reference}"

    upload = reporter.post(
        f"{url}/attachments",
        {"file": SimpleUploadedFile("screenshot.png", PNG, content_type="text/plain")},
    )
    assert upload.status_code == 201, upload.content
    assert upload.json()["content_type"] == "image/png"

    analyst = bearer_client(world.users["banking.analyst"])
    detail = analyst.get(url).json()
    assert {(o["kind"], o["value"]) for o in detail["observables"]} == {
        ("url", "https://login-nationalbank.example/verify"),
        ("email", "alerts@nationa1bank.example"),
        ("ipv4", "198.51.100.23"),
    }
    triaged = analyst.patch(
        url, {"status": "triaged", "severity": HIGH}, content_type="application/json"
    )
    assert triaged.status_code == 200, triaged.content
    assert triaged.json()["priority"] == 3
    # High priority: escalated to the National CERT by rule; the Banking CERT stays on.
    assert triaged.json()["handling_team"] == "national"
    assert triaged.json()["participants"] == ["banking"]

    coordinator = bearer_client(world.users["national.coordinator"])
    added = coordinator.post(
        f"{url}/participants",
        {"team": "telecom", "reason": "The phishing host sits in a telco network."},
        content_type="application/json",
    )
    assert added.status_code == 201, added.content
    assert added.json()["participants"] == ["banking", "telecom"]

    telecom = bearer_client(world.users["telecom.analyst"])
    assert telecom.get(url).status_code == 200
    assert reference in [i["reference"] for i in telecom.get("/api/v1/incidents").json()["items"]]
    assert bearer_client(world.users["punjab.analyst"]).get(url).status_code == 404

    assert (
        coordinator.post(
            f"{url}/notes",
            {"body": "Takedown requested at the registrar.", "visibility": "shared"},
            content_type="application/json",
        ).status_code
        == 201
    )
    assert (
        analyst.post(
            f"{url}/notes",
            {"body": "Looks like the kit we saw in March.", "visibility": "internal"},
            content_type="application/json",
        ).status_code
        == 201
    )

    seen_by_reporter = reporter.get(url).json()
    assert [n["body"] for n in seen_by_reporter["notes"]] == [
        "Takedown requested at the registrar."
    ]
    assert seen_by_reporter["tasks"] == []
    staff_view = coordinator.get(url).json()
    assert len(staff_view["notes"]) == 2

    actions = [entry["action"] for entry in staff_view["timeline"]]
    assert actions == [
        "reported",
        "observables_added",
        "attachment_added",
        "status_changed",
        "updated",
        "escalated",
        "participant_added",
        "note_added",
        "note_added",
    ]
    reporter_actions = [entry["action"] for entry in seen_by_reporter["timeline"]]
    assert "escalated" not in reporter_actions
    assert "note_added" in reporter_actions

    out = StringIO()
    call_command("audit", "verify", stdout=out)
    assert "audit log intact" in out.getvalue()
