"""The visibility matrix of DESIGN.md section 3 for incidents: one incident reported by
every organization of the reference tree, and what every role of every team and
organization sees. Expectations are written out, not computed."""

from __future__ import annotations

import pytest

from certhub.core.errors import NotFound
from certhub.incidents.models import Incident
from certhub.incidents.selectors import get_incident, incidents_visible_to
from certhub.tenancy.choices import OrgRole, TeamRole
from tests.factories import World, make_incident

pytestmark = pytest.mark.django_db

ALL = {
    "national-bank",
    "city-bank",
    "telco",
    "ministry",
    "punjab-health",
    "sindh-water",
    "grid",
    "national-direct",
    "federal-agency",
}
# team -> reporting organizations of the incidents its members see. city-bank and grid
# are CII: their reports escalate to the National CERT at once, and the Banking and CII
# CERTs stay on as participants.
TEAM_SEES = {
    "national": ALL,
    "government": {"ministry", "punjab-health", "sindh-water"},
    "punjab": {"punjab-health"},
    "sindh": {"sindh-water"},
    "banking": {"national-bank", "city-bank"},
    "telecom": {"telco"},
    "cii": {"grid"},
    "federal": {"federal-agency"},
}


@pytest.fixture
def incidents(world: World) -> dict[str, Incident]:
    return {org: make_incident(world.users[f"{org}.reporter"], title=org) for org in ALL}


def _seen(user) -> set[str]:
    return set(incidents_visible_to(user).values_list("reporting_org__slug", flat=True))


@pytest.mark.parametrize("role", TeamRole.values)
@pytest.mark.parametrize("team", sorted(TEAM_SEES))
def test_team_members_see_their_subtree_and_participations(
    world: World, incidents: dict[str, Incident], team: str, role: str
) -> None:
    user = world.users[f"{team}.{role}"]
    assert _seen(user) == TEAM_SEES[team]
    for org, incident in incidents.items():
        if org not in TEAM_SEES[team]:
            with pytest.raises(NotFound):
                get_incident(user, incident.reference)


@pytest.mark.parametrize("role", OrgRole.values)
@pytest.mark.parametrize("org", sorted(ALL))
def test_organization_members_see_their_own_reports_only(
    world: World, incidents: dict[str, Incident], org: str, role: str
) -> None:
    assert _seen(world.users[f"{org}.{role}"]) == {org}


def test_an_affected_organization_sees_the_incident_too(
    world: World, incidents: dict[str, Incident]
) -> None:
    from certhub.incidents.services import update_incident

    coordinator = world.users["national.coordinator"]
    incident = get_incident(coordinator, incidents["national-bank"].reference)
    update_incident(
        actor=coordinator, incident=incident, changes={"affected_orgs": ["national-bank", "telco"]}
    )
    assert _seen(world.users["telco.reporter"]) == {"telco", "national-bank"}


@pytest.mark.parametrize("who", ["council", "nobody"])
def test_council_members_and_strangers_never_see_an_incident(
    world: World, incidents: dict[str, Incident], who: str
) -> None:
    assert _seen(world.users[who]) == set()
    with pytest.raises(NotFound):
        get_incident(world.users[who], incidents["telco"].reference)


def test_the_platform_admin_sees_every_incident(
    world: World, incidents: dict[str, Incident]
) -> None:
    assert _seen(world.users["admin"]) == ALL
