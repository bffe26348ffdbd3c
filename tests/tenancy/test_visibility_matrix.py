"""The visibility matrix of DESIGN.md section 3 for the constituency: every role of every
kind of team and organization, against objects in its own branch, a sibling branch,
above it and below it. Expectations are written out per user, not computed, so a change
in the rules shows up here as a readable diff."""

from __future__ import annotations

import pytest

from certhub.core.errors import NotFound
from certhub.tenancy.choices import OrgRole, TeamRole
from certhub.tenancy.selectors import (
    assets_visible_to,
    contacts_visible_to,
    get_organization,
    get_team,
    memberships_visible_to,
    organizations_visible_to,
    teams_visible_to,
)
from tests.factories import World

pytestmark = pytest.mark.django_db

ALL_TEAMS = {"national", "government", "cii", "banking", "telecom", "punjab", "sindh", "federal"}
ALL_ORGS = {
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

# team slug -> (teams its members see, organizations its members see)
TEAM_EXPECTATIONS: dict[str, tuple[set[str], set[str]]] = {
    # the root sees the whole country
    "national": (ALL_TEAMS, ALL_ORGS),
    # a middle team: itself, below it, and its reporting line above
    "government": (
        {"national", "government", "punjab", "sindh"},
        {"ministry", "punjab-health", "sindh-water"},
    ),
    # leaves: own branch and the line above, never a sibling
    "punjab": ({"national", "government", "punjab"}, {"punjab-health"}),
    "sindh": ({"national", "government", "sindh"}, {"sindh-water"}),
    "banking": ({"national", "banking"}, {"national-bank", "city-bank"}),
    "telecom": ({"national", "telecom"}, {"telco"}),
    "cii": ({"national", "cii"}, {"grid"}),
    "federal": ({"national", "federal"}, {"federal-agency"}),
}

# organization slug -> teams its members see (its responsible team and the line above)
ORG_TEAM_EXPECTATIONS: dict[str, set[str]] = {
    "national-bank": {"national", "banking"},
    "city-bank": {"national", "banking"},
    "telco": {"national", "telecom"},
    "ministry": {"national", "government"},
    "punjab-health": {"national", "government", "punjab"},
    "sindh-water": {"national", "government", "sindh"},
    "grid": {"national", "cii"},
    "national-direct": {"national"},
    "federal-agency": {"national", "federal"},
}

TEAM_CASES = [(team, role) for team in TEAM_EXPECTATIONS for role in TeamRole.values]
ORG_CASES = [(org, role) for org in ORG_TEAM_EXPECTATIONS for role in OrgRole.values]


def slugs(queryset) -> set[str]:
    return set(queryset.values_list("slug", flat=True))


@pytest.mark.parametrize(("team", "role"), TEAM_CASES)
def test_team_member_sees_own_branch_and_reporting_line_only(
    world: World, team: str, role: str
) -> None:
    user = world.users[f"{team}.{role}"]
    expected_teams, expected_orgs = TEAM_EXPECTATIONS[team]
    assert slugs(teams_visible_to(user)) == expected_teams
    assert slugs(organizations_visible_to(user)) == expected_orgs
    asset_owners = set(assets_visible_to(user).values_list("organization__slug", flat=True))
    assert asset_owners <= expected_orgs
    assert asset_owners == expected_orgs & {
        "national-bank",
        "telco",
        "punjab-health",
        "sindh-water",
    }
    for slug in ALL_ORGS - expected_orgs:
        with pytest.raises(NotFound):
            get_organization(user, slug)
    for slug in ALL_TEAMS - expected_teams:
        with pytest.raises(NotFound):
            get_team(user, slug)


@pytest.mark.parametrize(("org", "role"), ORG_CASES)
def test_organization_member_sees_only_its_organization(world: World, org: str, role: str) -> None:
    user = world.users[f"{org}.{role}"]
    assert slugs(organizations_visible_to(user)) == {org}
    assert slugs(teams_visible_to(user)) == ORG_TEAM_EXPECTATIONS[org]
    assert set(assets_visible_to(user).values_list("organization__slug", flat=True)) <= {org}
    for other in ALL_ORGS - {org}:
        with pytest.raises(NotFound):
            get_organization(user, other)
    # memberships: its own only, never who works at a CERT or another organization
    assert set(memberships_visible_to(user).values_list("user__username", flat=True)) == {
        user.username
    }


def test_council_member_sees_the_tree_but_no_organization(world: World) -> None:
    council = world.users["council"]
    assert slugs(teams_visible_to(council)) == ALL_TEAMS
    assert not organizations_visible_to(council).exists()
    assert not assets_visible_to(council).exists()
    assert not contacts_visible_to(council).exists()
    with pytest.raises(NotFound):
        get_organization(council, "national-bank")


def test_admin_sees_everything(world: World) -> None:
    admin = world.users["admin"]
    assert slugs(teams_visible_to(admin)) == ALL_TEAMS
    assert slugs(organizations_visible_to(admin)) == ALL_ORGS


def test_user_without_memberships_and_anonymous_see_nothing(world: World) -> None:
    from django.contrib.auth.models import AnonymousUser

    for user in (world.users["nobody"], AnonymousUser()):
        assert not teams_visible_to(user).exists()
        assert not organizations_visible_to(user).exists()
        assert not assets_visible_to(user).exists()
        assert not contacts_visible_to(user).exists()


def test_inactive_user_sees_nothing(world: World) -> None:
    analyst = world.users["national.analyst"]
    analyst.is_active = False
    analyst.save()
    assert not organizations_visible_to(analyst).exists()


def test_contacts_follow_their_owner(world: World) -> None:
    from certhub.tenancy.models import Contact

    Contact.objects.create(
        organization=world.orgs["telco"], name="Telco SOC", email="soc@telco.example"
    )
    Contact.objects.create(
        organization=world.orgs["national-bank"], name="Bank SOC", email="soc@bank.example"
    )
    Contact.objects.create(
        team=world.teams["telecom"], name="Telecom CERT", email="cert@telecom.example"
    )
    Contact.objects.create(
        team=world.teams["national"], name="National CERT", email="cert@national.example"
    )
    seen = set(contacts_visible_to(world.users["banking.analyst"]).values_list("email", flat=True))
    assert seen == {"soc@bank.example", "cert@national.example"}
    seen = set(contacts_visible_to(world.users["telco.reporter"]).values_list("email", flat=True))
    assert seen == {"soc@telco.example", "cert@telecom.example", "cert@national.example"}


def test_team_members_see_memberships_of_their_subtree_only(world: World) -> None:
    seen = set(
        memberships_visible_to(world.users["government.coordinator"]).values_list(
            "user__username", flat=True
        )
    )
    assert "punjab.analyst" in seen
    assert "punjab-health.reporter" in seen
    assert "banking.analyst" not in seen
    assert "national.analyst" not in seen


def test_membership_change_takes_effect_for_the_same_user_object(world: World) -> None:
    from certhub.tenancy.services import set_membership

    analyst = world.users["banking.analyst"]
    assert "telco" not in slugs(organizations_visible_to(analyst))
    set_membership(
        actor=world.users["admin"], user=analyst, team=world.teams["telecom"], role=TeamRole.VIEWER
    )
    assert "telco" in slugs(organizations_visible_to(analyst))


def test_scope_is_read_with_one_query(world: World, django_assert_num_queries) -> None:
    from certhub.accounts.models import User
    from certhub.tenancy.models import Organization

    fresh = User.objects.get(username="government.analyst")
    with django_assert_num_queries(2):
        orgs = list(organizations_visible_to(fresh))
        assert {o.sector.slug for o in orgs}  # sector is joined, not queried per row
    assert all(isinstance(o, Organization) for o in orgs)


def test_cert_staff_may_address_any_cert_but_organizations_and_council_none(world: World) -> None:
    from certhub.tenancy.selectors import teams_addressable_by

    assert slugs(teams_addressable_by(world.users["punjab.analyst"])) == ALL_TEAMS
    assert not teams_addressable_by(world.users["telco.reporter"]).exists()
    assert not teams_addressable_by(world.users["council"]).exists()
