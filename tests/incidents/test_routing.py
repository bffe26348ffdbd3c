"""Escalation up the reporting line, delegation down, participants, and the automatic
escalation rules: each move is on the timeline, audited and notified."""

from __future__ import annotations

from typing import Any

import pytest

from certhub.audit.models import AuditEntry
from certhub.core.errors import Conflict, Forbidden, Invalid, NotFound
from certhub.incidents.models import Incident
from certhub.incidents.selectors import get_incident
from certhub.incidents.services import (
    add_participant,
    delegate_incident,
    escalate_incident,
    remove_participant,
    report_incident,
    update_incident,
)
from certhub.notify.models import OutboundMail
from tests.factories import HIGH_SEVERITY, World, make_incident, make_user

pytestmark = pytest.mark.django_db

HIGH = HIGH_SEVERITY
LOW = HIGH | {"functional_impact": "none", "information_impact": "none", "actor": "none"}


def _fresh(user: Any, incident: Incident) -> Incident:
    return get_incident(user, incident.reference)


def _participants(incident: Incident) -> list[str]:
    return sorted(incident.participations.values_list("team__slug", flat=True))


def test_an_analyst_escalates_to_the_parent_and_stays_participant(world: World) -> None:
    incident = make_incident(world.users["punjab-health.reporter"])
    analyst = world.users["punjab.analyst"]
    moved = escalate_incident(actor=analyst, incident=_fresh(analyst, incident), reason="Too big")
    assert moved.handling_team.slug == "government"
    assert _participants(moved) == ["punjab"]
    entry = moved.timeline.get(action="escalated")
    assert entry.changes["handling_team"] == ["punjab", "government"]
    assert entry.summary == "Too big"
    assert entry.internal
    assert AuditEntry.objects.filter(action="incident.escalated").exists()
    # The escalating analyst still sees it, through its team's participation.
    assert _fresh(analyst, incident).handling_team.slug == "government"


def test_escalation_to_a_named_ancestor_skips_levels(world: World) -> None:
    incident = make_incident(world.users["punjab-health.reporter"])
    analyst = world.users["punjab.analyst"]
    moved = escalate_incident(
        actor=analyst, incident=_fresh(analyst, incident), reason="National", to_team="national"
    )
    assert moved.handling_team.slug == "national"
    with pytest.raises(Invalid, match="not above"):
        escalate_incident(
            actor=world.users["national.analyst"],
            incident=_fresh(world.users["national.analyst"], incident),
            reason="x",
            to_team="telecom",
        )


def test_escalation_notifies_the_receiving_team(world: World) -> None:
    incident = make_incident(world.users["punjab-health.reporter"])
    analyst = world.users["punjab.analyst"]
    escalate_incident(actor=analyst, incident=_fresh(analyst, incident), reason="Help")
    mail = OutboundMail.objects.get(kind="incident_moved")
    assert mail.recipients == [
        "government.analyst@example.org",
        "government.coordinator@example.org",
    ]
    assert mail.subject.startswith(f"[TLP:AMBER] [{incident.reference}]")


@pytest.mark.parametrize("who", ["punjab.viewer", "punjab-health.reporter"])
def test_viewers_and_reporters_cannot_escalate(world: World, who: str) -> None:
    incident = make_incident(world.users["punjab-health.reporter"])
    with pytest.raises(Forbidden):
        escalate_incident(
            actor=world.users[who], incident=_fresh(world.users[who], incident), reason="x"
        )


def test_only_coordinators_delegate_and_only_downwards(world: World) -> None:
    incident = make_incident(world.users["ministry.reporter"])
    coordinator = world.users["government.coordinator"]
    with pytest.raises(Forbidden):
        delegate_incident(
            actor=world.users["government.analyst"],
            incident=_fresh(world.users["government.analyst"], incident),
            to_team="sindh",
            reason="x",
        )
    with pytest.raises(Invalid, match="not a team below"):
        delegate_incident(
            actor=coordinator,
            incident=_fresh(coordinator, incident),
            to_team="national",
            reason="x",
        )
    moved = delegate_incident(
        actor=coordinator,
        incident=_fresh(coordinator, incident),
        to_team="sindh",
        reason="Local expertise",
    )
    assert moved.handling_team.slug == "sindh"
    assert moved.timeline.filter(action="delegated").exists()
    mail = OutboundMail.objects.get(kind="incident_moved")
    assert mail.recipients == ["sindh.analyst@example.org", "sindh.coordinator@example.org"]
    assert "Local expertise" in mail.body


def test_coordinators_add_and_remove_participant_teams(world: World) -> None:
    incident = make_incident(world.users["national-bank.reporter"])
    coordinator = world.users["national.coordinator"]
    add_participant(
        actor=coordinator, incident=_fresh(coordinator, incident), team="telecom", reason="Telco"
    )
    assert _participants(incident) == ["telecom"]
    with pytest.raises(Conflict):
        add_participant(actor=coordinator, incident=_fresh(coordinator, incident), team="telecom")
    with pytest.raises(Invalid):
        add_participant(actor=coordinator, incident=_fresh(coordinator, incident), team="banking")
    with pytest.raises(Forbidden):
        add_participant(
            actor=world.users["banking.analyst"],
            incident=_fresh(world.users["banking.analyst"], incident),
            team="cii",
        )
    remove_participant(actor=coordinator, incident=_fresh(coordinator, incident), team="telecom")
    assert _participants(incident) == []
    with pytest.raises(NotFound):
        remove_participant(
            actor=coordinator, incident=_fresh(coordinator, incident), team="telecom"
        )


# --- Automatic escalation rules --------------------------------------------------------


def test_rule_cii_affected_escalates_to_the_national_cert_at_once(world: World) -> None:
    incident = make_incident(world.users["city-bank.reporter"])  # city-bank is CII grade 1
    assert incident.handling_team.slug == "national"
    assert _participants(incident) == ["banking"]
    entry = incident.timeline.get(action="escalated")
    assert entry.changes["rule"] == "cii_affected"
    assert "CII" in entry.summary


def test_rule_priority_high_escalates_after_scoring(world: World) -> None:
    incident = make_incident(world.users["national-bank.reporter"])
    analyst = world.users["banking.analyst"]
    low = update_incident(
        actor=analyst, incident=_fresh(analyst, incident), changes={"severity": LOW}
    )
    assert low.handling_team.slug == "banking"
    high = update_incident(
        actor=analyst, incident=_fresh(analyst, incident), changes={"severity": HIGH}
    )
    assert high.priority == 3
    assert high.handling_team.slug == "national"
    assert high.timeline.get(action="escalated").changes["rule"] == "priority_at_least:3"


def test_rule_multiple_sectors_escalates_to_the_team_covering_all_of_them(world: World) -> None:
    cross = make_incident(
        world.users["banking.analyst"],
        reporting_org="national-bank",
        affected_orgs=["national-bank"],
    )
    coordinator = world.users["national.coordinator"]
    update_incident(
        actor=coordinator,
        incident=_fresh(coordinator, cross),
        changes={"affected_orgs": ["national-bank", "telco"]},
    )
    assert _fresh(coordinator, cross).handling_team.slug == "national"
    # Two provinces in different sectors: the Government CERT covers both.
    provincial = make_incident(world.users["punjab-health.reporter"])
    update_incident(
        actor=coordinator,
        incident=_fresh(coordinator, provincial),
        changes={"affected_orgs": ["punjab-health", "sindh-water"]},
    )
    moved = _fresh(coordinator, provincial)
    assert moved.handling_team.slug == "government"
    assert moved.timeline.get(action="escalated").changes["rule"] == "multiple_sectors"


def test_a_rule_fires_once_so_a_delegation_down_sticks(world: World) -> None:
    incident = make_incident(world.users["national-bank.reporter"])
    analyst = world.users["banking.analyst"]
    update_incident(actor=analyst, incident=_fresh(analyst, incident), changes={"severity": HIGH})
    coordinator = world.users["national.coordinator"]
    delegate_incident(
        actor=coordinator,
        incident=_fresh(coordinator, incident),
        to_team="banking",
        reason="Banking CERT has it under control",
    )
    update_incident(
        actor=analyst, incident=_fresh(analyst, incident), changes={"status": "triaged"}
    )
    assert _fresh(analyst, incident).handling_team.slug == "banking"


def test_public_reports_go_to_national_intake_and_staff_records_to_their_team(
    world: World,
) -> None:
    from certhub.incidents.services import submit_public_report

    receipt = submit_public_report(
        title="Fake bank site", description="It asks for my PIN", ip_address="192.0.2.50"
    )
    assert receipt.incident is not None
    assert receipt.incident.handling_team.slug == "national"
    sindh_staff = make_user("sindh.extra", team=world.teams["sindh"], role="analyst")
    recorded = report_incident(actor=sindh_staff, title="Seen in the wild")
    assert recorded.handling_team.slug == "sindh"
