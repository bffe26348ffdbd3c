"""Reporting, the status workflow and who may change what, through the services."""

from __future__ import annotations

import pytest

from certhub.core.errors import Forbidden, Invalid, NotFound
from certhub.incidents.choices import TRANSITIONS, Status
from certhub.incidents.models import Incident, Observable
from certhub.incidents.selectors import get_incident
from certhub.incidents.services import report_incident, update_incident
from tests.factories import World, make_incident

pytestmark = pytest.mark.django_db


def test_an_organization_report_goes_to_its_responsible_team(world: World) -> None:
    incident = make_incident(world.users["punjab-health.reporter"], title="Ransomware")
    assert incident.handling_team.slug == "punjab"
    assert incident.reporting_org.slug == "punjab-health"
    assert incident.status == Status.NEW
    assert [o.slug for o in incident.affected_orgs.all()] == ["punjab-health"]


def test_pasted_indicators_become_observables_once(world: World) -> None:
    incident = make_incident(
        world.users["telco.reporter"],
        observables_text="hxxp://bad[.]example/a 198.51.100[.]9 198.51.100.9",
    )
    assert set(Observable.objects.filter(incident=incident).values_list("kind", "value")) == {
        ("url", "http://bad.example/a"),
        ("ipv4", "198.51.100.9"),
    }


def test_cert_staff_record_incidents_for_organizations_they_cover_only(world: World) -> None:
    recorded = make_incident(world.users["banking.analyst"], reporting_org="national-bank")
    assert recorded.handling_team.slug == "banking"
    assert recorded.channel == "staff"
    own = make_incident(world.users["telecom.analyst"])
    assert own.handling_team.slug == "telecom"
    assert own.reporting_org is None
    with pytest.raises(NotFound):
        make_incident(world.users["banking.analyst"], reporting_org="telco")


@pytest.mark.parametrize("who", ["banking.viewer", "council", "nobody"])
def test_viewers_council_and_strangers_cannot_report(world: World, who: str) -> None:
    with pytest.raises(Forbidden):
        make_incident(world.users[who])
    assert Incident.objects.count() == 0


def test_an_unknown_classification_is_refused(world: World) -> None:
    with pytest.raises(Invalid, match="not an RSIT category"):
        make_incident(world.users["telco.reporter"], category="fraud", type="spam")


def _walk(world: World, incident: Incident, *statuses: str) -> Incident:
    analyst = world.users["banking.analyst"]
    for status in statuses:
        incident = update_incident(
            actor=analyst,
            incident=get_incident(analyst, incident.reference),
            changes={"status": status},
        )
    return incident


def test_the_workflow_runs_from_new_to_closed_and_can_reopen(world: World) -> None:
    incident = make_incident(world.users["national-bank.reporter"])
    incident = _walk(world, incident, "triaged", "in_progress", "resolved", "closed", "in_progress")
    assert incident.status == Status.IN_PROGRESS
    actions = list(incident.timeline.values_list("summary", flat=True))
    assert "resolved -> closed" in actions
    assert "closed -> in_progress" in actions


@pytest.mark.parametrize(
    ("path", "bad"),
    [
        ((), "resolved"),
        ((), "closed"),
        (("triaged", "in_progress"), "new"),
        (("rejected",), "closed"),
    ],
)
def test_a_jump_outside_the_workflow_is_refused_with_the_allowed_moves(
    world: World, path: tuple[str, ...], bad: str
) -> None:
    incident = _walk(world, make_incident(world.users["national-bank.reporter"]), *path)
    with pytest.raises(Invalid) as refused:
        _walk(world, incident, bad)
    current = incident.status
    assert f"cannot go from {current} to {bad}" in refused.value.message
    assert ", ".join(sorted(TRANSITIONS[current])) in refused.value.message


def test_the_transitions_table_names_only_known_statuses() -> None:
    assert set(TRANSITIONS) == set(Status.values)
    assert all(targets <= set(Status.values) for targets in TRANSITIONS.values())


def test_a_duplicate_is_merged_into_the_other_incident(world: World) -> None:
    first = make_incident(world.users["national-bank.reporter"], title="Phishing")
    second = make_incident(world.users["national-bank.reporter"], title="Same phishing")
    analyst = world.users["banking.analyst"]
    with pytest.raises(Invalid, match="duplicate_of"):
        update_incident(actor=analyst, incident=second, changes={"status": "duplicate"})
    merged = update_incident(
        actor=analyst,
        incident=get_incident(analyst, second.reference),
        changes={"status": "duplicate", "duplicate_of": first.reference},
    )
    assert merged.status == Status.DUPLICATE
    assert merged.merged_into == first
    assert merged.links_out.get().target == first


@pytest.mark.parametrize(
    "who", ["banking.viewer", "national-bank.reporter", "national-bank.org_admin"]
)
def test_viewers_and_reporters_cannot_triage(world: World, who: str) -> None:
    incident = make_incident(world.users["national-bank.reporter"])
    user = world.users[who]
    with pytest.raises(Forbidden):
        update_incident(
            actor=user,
            incident=get_incident(user, incident.reference),
            changes={"status": "triaged"},
        )


def test_assignment_is_to_an_analyst_of_the_handling_or_a_participating_team(world: World) -> None:
    incident = make_incident(world.users["national-bank.reporter"])
    analyst = world.users["banking.analyst"]
    with pytest.raises(Invalid, match=r"telecom\.analyst is not an analyst"):
        update_incident(actor=analyst, incident=incident, changes={"assignee": "telecom.analyst"})
    assigned = update_incident(
        actor=analyst,
        incident=get_incident(analyst, incident.reference),
        changes={"assignee": "banking.coordinator"},
    )
    assert assigned.assignee == world.users["banking.coordinator"]


def test_reporting_for_another_organization_is_not_possible(world: World) -> None:
    with pytest.raises(NotFound):
        report_incident(actor=world.users["telco.reporter"], title="x", reporting_org="city-bank")
