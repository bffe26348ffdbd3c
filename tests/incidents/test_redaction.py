"""TLP:RED: the content goes to the named recipients only (the reporter, the team that
handles it); everyone else who may see the incident gets its reference, status,
category, priority and sectors, so that statistics stay whole."""

from __future__ import annotations

import pytest

from certhub.core.errors import Forbidden
from certhub.incidents.selectors import access_for, get_incident, incidents_matching
from certhub.incidents.services import add_note
from tests.factories import World, bearer_client, make_incident

pytestmark = pytest.mark.django_db

REDACTED_KEYS = {
    "reference",
    "status",
    "priority",
    "priority_label",
    "priority_colour",
    "category",
    "tlp",
    "sectors",
    "redacted",
}


@pytest.fixture
def red(world: World):
    return make_incident(
        world.users["national-bank.reporter"],
        title="Insider at the treasury desk",
        description="Names inside",
        category="intrusions",
        type="privileged-account-compromise",
        tlp="RED",
        observables_text="insider.example",
    )


def test_named_recipients_read_the_content(world: World, red) -> None:
    for who in ("national-bank.reporter", "banking.analyst", "banking.viewer"):
        body = bearer_client(world.users[who]).get(f"/api/v1/incidents/{red.reference}").json()
        assert body["redacted"] is False, who
        assert body["title"] == "Insider at the treasury desk"


@pytest.mark.parametrize(
    "who", ["national.analyst", "national.coordinator", "admin", "national-bank.org_admin"]
)
def test_others_who_see_it_get_only_the_statistics_fields(world: World, red, who: str) -> None:
    response = bearer_client(world.users[who]).get(f"/api/v1/incidents/{red.reference}")
    assert response.status_code == 200
    body = response.json()
    assert body["redacted"] is True
    shown = {key for key, value in body.items() if value not in (None, [], {})}
    assert shown <= REDACTED_KEYS
    assert body["category"] == "intrusions"
    assert body["sectors"] == ["banking"]
    assert "Insider" not in response.content.decode()
    assert "insider.example" not in response.content.decode()


def test_the_list_redacts_too_and_search_does_not_reveal_red_content(world: World, red) -> None:
    national = world.users["national.analyst"]
    items = bearer_client(national).get("/api/v1/incidents").json()["items"]
    assert [(i["reference"], i["redacted"], i["title"]) for i in items] == [
        (red.reference, True, None)
    ]
    assert list(incidents_matching(national, q="treasury")) == []
    assert list(incidents_matching(national, q="insider.example")) == []
    assert [i.pk for i in incidents_matching(world.users["banking.analyst"], q="treasury")] == [
        red.pk
    ]


def test_escalation_names_the_receiving_team(world: World, red) -> None:
    from certhub.incidents.services import escalate_incident

    analyst = world.users["banking.analyst"]
    escalate_incident(actor=analyst, incident=get_incident(analyst, red.reference), reason="Up")
    national = world.users["national.analyst"]
    assert access_for(national, get_incident(national, red.reference)).full_content


def test_those_without_the_content_cannot_write_to_it(world: World, red) -> None:
    coordinator = world.users["national.coordinator"]
    with pytest.raises(Forbidden):
        add_note(actor=coordinator, incident=get_incident(coordinator, red.reference), body="x")


def test_a_red_note_on_an_amber_incident_stays_with_named_recipients(world: World) -> None:
    incident = make_incident(world.users["national-bank.reporter"])
    analyst = world.users["banking.analyst"]
    add_note(
        actor=analyst,
        incident=get_incident(analyst, incident.reference),
        body="Source: X",
        tlp="RED",
    )
    national = bearer_client(world.users["national.analyst"])
    assert national.get(f"/api/v1/incidents/{incident.reference}").json()["notes"] == []
    banking = bearer_client(world.users["banking.coordinator"])
    notes = banking.get(f"/api/v1/incidents/{incident.reference}").json()["notes"]
    assert [n["body"] for n in notes] == ["Source: X"]
