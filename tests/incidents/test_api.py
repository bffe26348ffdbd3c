"""Every incident endpoint through the HTTP client with a Bearer token: it works for
those entitled, answers 404 to a user of another branch (punjab.analyst on a banking
incident), 401 to an anonymous caller, 400/422 to bad input, and never a 500."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from certhub.incidents.models import CustodyEntry
from tests.factories import World, bearer_client, make_incident

pytestmark = pytest.mark.django_db

JSON = "application/json"


@pytest.fixture
def incident(world: World):
    return make_incident(
        world.users["national-bank.reporter"],
        title="Card skimming malware",
        category="malicious-code",
        type="infected-system",
        observables_text="hxxp://skim[.]example/c2 198.51.100.77",
    )


def _client(world: World, who: str) -> Client:
    client = bearer_client(world.users[who])
    client.raise_request_exception = False
    return client


def _url(incident: Any, tail: str = "") -> str:
    return f"/api/v1/incidents/{incident.reference}{tail}"


# (method, tail, payload) for every operation on one incident, with a valid payload.
OPERATIONS = [
    ("get", "", None),
    ("patch", "", {"status": "triaged"}),
    ("post", "/escalate", {"reason": "Bigger than us"}),
    ("post", "/delegate", {"to_team": "banking", "reason": "x"}),
    ("post", "/participants", {"team": "telecom"}),
    ("delete", "/participants/telecom", None),
    ("post", "/notes", {"body": "Looking", "visibility": "internal"}),
    ("post", "/tasks", {"title": "Collect logs"}),
    ("post", "/observables", {"text": "evil.example"}),
    ("post", "/links", {"kind": "related", "reference": "CERT-2026-000999"}),
    ("post", "/deadlines/notification/met", None),
    ("get", "/attachments/" + "a" * 64, None),
]


def _call(client: Client, method: str, url: str, payload: Any) -> Any:
    if payload is None:
        return getattr(client, method)(url)
    return getattr(client, method)(url, payload, content_type=JSON)


@pytest.mark.parametrize(("method", "tail", "payload"), OPERATIONS)
def test_a_user_of_another_branch_gets_404_everywhere(
    world: World, incident: Any, method: str, tail: str, payload: Any
) -> None:
    response = _call(_client(world, "punjab.analyst"), method, _url(incident, tail), payload)
    assert response.status_code == 404
    assert response.json() == {"detail": "No such incident."}


def test_another_branch_gets_404_for_attachment_upload_too(world: World, incident: Any) -> None:
    response = _client(world, "punjab.analyst").post(
        _url(incident, "/attachments"), {"file": SimpleUploadedFile("a.txt", b"hello")}
    )
    assert response.status_code == 404


@pytest.mark.parametrize(("method", "tail", "payload"), OPERATIONS)
def test_anonymous_callers_get_401(incident: Any, method: str, tail: str, payload: Any) -> None:
    response = _call(Client(), method, _url(incident, tail), payload)
    assert response.status_code == 401
    assert "Authentication required" in response.json()["detail"]


@pytest.mark.parametrize(
    ("who", "method", "tail", "payload"),
    [
        ("banking.viewer", "patch", "", {"status": "triaged"}),
        ("national-bank.reporter", "patch", "", {"status": "triaged"}),
        ("banking.analyst", "post", "/delegate", {"to_team": "banking", "reason": "x"}),
        ("banking.viewer", "post", "/escalate", {"reason": "x"}),
        ("banking.analyst", "post", "/participants", {"team": "banking"}),
        ("national-bank.reporter", "post", "/tasks", {"title": "x"}),
        ("national-bank.reporter", "post", "/notes", {"body": "x", "visibility": "internal"}),
        ("banking.viewer", "post", "/observables", {"text": "evil.example"}),
    ],
)
def test_roles_that_may_not_act_get_403_on_what_they_may_see(
    world: World, incident: Any, who: str, method: str, tail: str, payload: Any
) -> None:
    response = _call(_client(world, who), method, _url(incident, tail), payload)
    assert response.status_code == 403, response.content
    assert response.json()["detail"] == "Your role does not allow this on this incident." or (
        "Only CERT staff" in response.json()["detail"]
    )


@pytest.mark.parametrize(
    ("method", "tail", "payload", "status"),
    [
        ("patch", "", {"status": "closed"}, 400),
        ("patch", "", {"status": "sleeping"}, 422),
        ("patch", "", {"tlp": "PURPLE"}, 422),
        ("patch", "", {"severity": {"actor": "aliens"}}, 400),
        ("patch", "", {"category": "fraud", "type": "spam"}, 400),
        ("patch", "", {"assignee": "nobody"}, 400),
        ("patch", "", {"title": None}, 400),
        ("patch", "", {"affected_systems": -1}, 422),
        ("post", "/escalate", {"reason": ""}, 422),
        ("post", "/escalate", {"reason": "x", "to_team": "telecom"}, 400),
        ("post", "/delegate", {"to_team": "national", "reason": "x"}, 400),
        ("post", "/notes", {"body": "x", "visibility": "whisper"}, 422),
        ("post", "/notes", {}, 422),
        ("post", "/tasks", {"title": "x", "assignee": "telco.reporter"}, 400),
        ("post", "/tasks", {"title": "x", "due_at": "tomorrow"}, 422),
        ("post", "/observables", {"items": [{"kind": "ipv4", "value": "300.1.1.1"}]}, 400),
        ("post", "/observables", {"text": "nothing to see"}, 400),
        ("post", "/observables", {"items": [{"kind": "bitcoin", "value": "x"}]}, 422),
        ("post", "/links", {"kind": "related", "reference": "not-a-reference"}, 422),
        ("post", "/links", {"kind": "related", "reference": "CERT-2020-000001"}, 404),
        ("post", "/deadlines/resolve/met", None, 400),
        ("post", "/deadlines/someday/met", None, 422),
        ("get", "/attachments/not-a-hash", None, 422),
    ],
)
def test_bad_input_is_answered_in_words_never_with_a_500(
    world: World, incident: Any, method: str, tail: str, payload: Any, status: int
) -> None:
    client = _client(world, "national.coordinator")
    response = _call(client, method, _url(incident, tail), payload)
    assert response.status_code == status, response.content
    assert response.json()["detail"]


def test_an_unknown_or_malformed_reference_answers_404_or_422(world: World) -> None:
    client = _client(world, "national.analyst")
    assert client.get("/api/v1/incidents/CERT-2026-999999").status_code == 404
    assert client.get("/api/v1/incidents/%00").status_code in (404, 422)
    assert client.get("/api/v1/incidents/x" * 3).status_code in (404, 422)


def test_report_through_the_api_and_read_it_back(world: World) -> None:
    client = _client(world, "telco.reporter")
    response = client.post(
        "/api/v1/incidents",
        {
            "title": "DDoS on DNS",
            "category": "availability",
            "type": "ddos",
            "tlp": "GREEN",
            "observables": "AS64500 203.0.113[.]5",
        },
        content_type=JSON,
    )
    assert response.status_code == 201, response.content
    body = response.json()
    for key in (
        "reference",
        "status",
        "priority",
        "tlp",
        "handling_team",
        "participants",
        "reporting_org",
        "classification",
        "deadlines",
    ):
        assert key in body
    assert body["handling_team"] == "telecom"
    assert body["tlp"] == "GREEN"
    assert {d["kind"] for d in body["deadlines"]} >= {"notification", "acknowledge"}
    detail = client.get(f"/api/v1/incidents/{body['reference']}").json()
    assert [o["value"] for o in detail["observables"]] == ["AS64500", "203.0.113.5"]


@pytest.mark.parametrize(
    ("who", "payload", "status"),
    [
        ("telco.reporter", {"title": ""}, 422),
        ("telco.reporter", {"title": "x", "tlp": "BLUE"}, 422),
        ("telco.reporter", {"title": "x", "reporting_org": "city-bank"}, 404),
        ("telco.reporter", {"title": "x", "affected_orgs": ["grid"]}, 404),
        ("telco.reporter", {"title": "x", "category": "nope", "type": "nope"}, 400),
        ("council", {"title": "x"}, 403),
        ("banking.viewer", {"title": "x"}, 403),
    ],
)
def test_bad_reports_are_refused(world: World, who: str, payload: dict, status: int) -> None:
    response = _client(world, who).post("/api/v1/incidents", payload, content_type=JSON)
    assert response.status_code == status, response.content


def test_anonymous_callers_cannot_list_or_report(world: World) -> None:
    assert Client().get("/api/v1/incidents").status_code == 401
    assert Client().post("/api/v1/incidents", {"title": "x"}, content_type=JSON).status_code == 401


def test_the_list_filters_and_pages_newest_first(world: World) -> None:
    reporter = world.users["national-bank.reporter"]
    made = [make_incident(reporter, title=f"Incident {n}") for n in range(5)]
    make_incident(
        world.users["telco.reporter"],
        title="Telco one",
        category="fraud",
        type="phishing",
        observables_text="phish.example",
    )
    client = _client(world, "national.analyst")
    first = client.get("/api/v1/incidents?limit=2&sector=banking").json()
    assert [i["title"] for i in first["items"]] == ["Incident 4", "Incident 3"]
    second = client.get(f"/api/v1/incidents?limit=2&sector=banking&cursor={first['next_cursor']}")
    assert [i["title"] for i in second.json()["items"]] == ["Incident 2", "Incident 1"]
    assert [i["title"] for i in client.get("/api/v1/incidents?category=fraud").json()["items"]] == [
        "Telco one"
    ]
    assert [
        i["title"] for i in client.get("/api/v1/incidents?q=phish.example").json()["items"]
    ] == ["Telco one"]
    assert [
        i["title"] for i in client.get(f"/api/v1/incidents?q={made[0].reference}").json()["items"]
    ] == ["Incident 0"]
    assert client.get("/api/v1/incidents?team=telecom").json()["items"][0]["title"] == "Telco one"
    assert client.get("/api/v1/incidents?tlp=RED").json()["items"] == []
    assert client.get("/api/v1/incidents?status=new&priority=0").json()["items"][0]
    assert client.get("/api/v1/incidents?overdue=true").json()["items"] == []
    assert len(client.get("/api/v1/incidents?overdue=false").json()["items"]) == 6
    assert client.get("/api/v1/incidents?assignee=banking.analyst").json()["items"] == []
    assert _client(world, "punjab.analyst").get("/api/v1/incidents").json()["items"] == []


@pytest.mark.parametrize(
    "query", ["limit=0", "limit=501", "cursor=%%%", "cursor=WyJ4Il0", "priority=9", "status=x"]
)
def test_bad_list_parameters_are_refused(world: World, query: str) -> None:
    response = _client(world, "national.analyst").get(f"/api/v1/incidents?{query}")
    assert response.status_code in (400, 422)


def test_a_list_page_costs_a_fixed_number_of_queries(world: World) -> None:
    client = _client(world, "national.analyst")
    make_incident(world.users["national-bank.reporter"])
    client.get("/api/v1/incidents")  # token last-used stamp, scope
    with CaptureQueriesContext(connection) as few:
        client.get("/api/v1/incidents")
    for n in range(8):
        make_incident(world.users["telco.reporter"], title=f"more {n}")
    make_incident(world.users["city-bank.reporter"])  # escalated: has a participant
    with CaptureQueriesContext(connection) as many:
        assert len(client.get("/api/v1/incidents").json()["items"]) == 10
    assert len(many) == len(few)


def test_the_working_endpoints_do_their_job(world: World, incident: Any) -> None:
    analyst = _client(world, "banking.analyst")
    coordinator = _client(world, "banking.coordinator")
    url = _url(incident)
    assert (
        analyst.patch(
            url, {"assignee": "banking.analyst", "status": "triaged"}, content_type=JSON
        ).json()["assignee"]
        == "banking.analyst"
    )
    task = analyst.post(
        f"{url}/tasks",
        {
            "title": "Image the POS",
            "assignee": "banking.coordinator",
            "due_at": "2030-01-01T10:00:00Z",
        },
        content_type=JSON,
    )
    assert task.status_code == 201
    assert task.json()["assignee"] == "banking.coordinator"
    added = analyst.post(
        f"{url}/observables",
        {
            "items": [{"kind": "sha256", "value": "A" * 64}],
            "text": "hxxp://skim[.]example/c2",
            "internal": True,
            "comment": "from the POS image",
        },
        content_type=JSON,
    )
    assert added.status_code == 201
    assert [o["value"] for o in added.json()] == ["a" * 64]  # the URL was there already
    other = make_incident(world.users["national-bank.reporter"], title="Older skimming")
    link = analyst.post(
        f"{url}/links", {"kind": "parent", "reference": other.reference}, content_type=JSON
    )
    assert link.status_code == 201
    assert (
        analyst.post(
            f"{url}/links", {"kind": "parent", "reference": other.reference}, content_type=JSON
        ).status_code
        == 409
    )
    met = _client(world, "national-bank.reporter").post(f"{url}/deadlines/notification/met")
    assert met.status_code == 200
    assert met.json()["met_at"]
    assert (
        coordinator.post(f"{url}/participants", {"team": "telecom"}, content_type=JSON).status_code
        == 404
    )  # not a team it sees
    escalated = analyst.post(
        f"{url}/escalate", {"reason": "Needs national view"}, content_type=JSON
    )
    assert escalated.json()["handling_team"] == "national"
    national = _client(world, "national.coordinator")
    assert national.post(f"{url}/participants", {"team": "telecom"}, content_type=JSON).json()[
        "participants"
    ] == ["banking", "telecom"]
    removed = national.delete(f"{url}/participants/telecom")
    assert removed.status_code == 200
    assert removed.json()["participants"] == ["banking"]
    delegated = national.post(
        f"{url}/delegate", {"to_team": "banking", "reason": "Yours"}, content_type=JSON
    )
    assert delegated.json()["handling_team"] == "banking"
    detail = analyst.get(url).json()
    assert detail["links"] == [{"kind": "parent", "reference": other.reference, "direction": "to"}]
    assert [t["title"] for t in detail["tasks"]] == ["Image the POS"]
    reporter_view = _client(world, "national-bank.reporter").get(url).json()
    assert reporter_view["tasks"] == []
    assert reporter_view["participants"] == []
    assert "a" * 64 not in [o["value"] for o in reporter_view["observables"]]


def test_attachments_upload_download_and_custody(world: World, incident: Any) -> None:
    reporter = _client(world, "national-bank.reporter")
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    upload = reporter.post(
        _url(incident, "/attachments"),
        {
            "file": SimpleUploadedFile("../../etc/report.pdf", pdf, content_type="image/gif"),
            "tlp": "AMBER+STRICT",
        },
    )
    assert upload.status_code == 201, upload.content
    body = upload.json()
    assert body["filename"] == "report.pdf"
    assert body["content_type"] == "application/pdf"  # from the bytes, not the client
    assert body["tlp"] == "AMBER+STRICT"
    again = reporter.post(
        _url(incident, "/attachments"), {"file": SimpleUploadedFile("b.pdf", pdf)}
    )
    assert again.status_code == 409
    analyst = _client(world, "banking.analyst")
    download = analyst.get(_url(incident, f"/attachments/{body['sha256']}"))
    assert download.status_code == 200
    assert download.content == pdf
    assert download["Content-Disposition"].startswith("attachment;")
    custody = list(CustodyEntry.objects.values_list("action", "actor_name"))
    assert custody == [("uploaded", "national-bank.reporter"), ("downloaded", "banking.analyst")]
    assert analyst.get(_url(incident, "/attachments/" + "b" * 64)).status_code == 404


def test_oversized_and_empty_attachments_are_refused(
    world: World, incident: Any, settings: Any
) -> None:
    settings.CERTHUB_ATTACHMENT_MAX_BYTES = 10
    client = _client(world, "banking.analyst")
    big = client.post(_url(incident, "/attachments"), {"file": SimpleUploadedFile("a", b"x" * 11)})
    assert big.status_code == 413
    assert "too large" in big.json()["detail"]
    empty = client.post(_url(incident, "/attachments"), {"file": SimpleUploadedFile("a", b"")})
    assert empty.status_code == 400
    missing = client.post(_url(incident, "/attachments"), {})
    assert missing.status_code == 422
