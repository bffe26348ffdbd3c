"""The constituency API (/api/v1/): who am I, sectors, teams, organizations and the
asset lookup, through the HTTP client with a real bearer token or a browser session.
Every detail endpoint is checked against a user of another branch of the tree, who must
get 404 (never 403) and must not find the object in lists either."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from certhub.accounts.models import ApiToken, User
from certhub.accounts.tokens import new_token
from certhub.tenancy.choices import AssetKind, NotificationKind, TeamKind
from certhub.tenancy.models import Contact
from tests.factories import World, bearer_client, make_asset, make_org, make_team, make_user

pytestmark = pytest.mark.django_db

API = "/api/v1"


@pytest.fixture(autouse=True)
def _no_mfa_enrolment(settings: Any) -> None:
    # These tests are about what each user may read; enforcing a second factor on CERT
    # staff is the accounts tests' story (the session would otherwise be refused).
    settings.CERTHUB_REQUIRE_MFA = False


def session_client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def as_user(world: World, name: str) -> Client:
    return bearer_client(world.users[name])


def slugs(response: Any) -> set[str]:
    assert response.status_code == 200, response.content
    return {item["slug"] for item in response.json()["items"]}


def assert_not_found(response: Any) -> None:
    assert response.status_code == 404, response.content
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["detail"]


# --- Authentication ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/me",
        "/sectors",
        "/teams",
        "/teams/national",
        "/organizations",
        "/organizations/national-bank",
        "/lookup?ip=192.0.2.1",
    ],
)
def test_anonymous_caller_gets_401_json(world: World, path: str) -> None:
    response = Client().get(API + path)
    assert response.status_code == 401
    assert response["Content-Type"].startswith("application/json")
    assert "detail" in response.json()


def test_unknown_or_revoked_token_gets_401(world: World) -> None:
    client = bearer_client(world.users["banking.analyst"])
    assert client.get(f"{API}/me").status_code == 200
    ApiToken.objects.update(revoked_at="2020-01-01T00:00:00Z")
    assert client.get(f"{API}/me").status_code == 401
    forged = Client(headers={"Authorization": f"Bearer {new_token()}"})
    assert forged.get(f"{API}/me").status_code == 401


# --- /me --------------------------------------------------------------------------------


def test_me_tells_an_analyst_its_team_and_role(world: World) -> None:
    me = as_user(world, "banking.analyst").get(f"{API}/me").json()
    assert me["username"] == "banking.analyst"
    assert me["teams"] == [{"slug": "banking", "name": "Banking", "role": "analyst"}]
    assert me["organizations"] == []
    assert (me["is_admin"], me["is_council"], me["mfa_enabled"]) == (False, False, False)


def test_me_over_a_session_tells_a_reporter_its_organization(world: World) -> None:
    me = session_client(world.users["city-bank.reporter"]).get(f"{API}/me").json()
    assert me["teams"] == []
    assert me["organizations"] == [{"slug": "city-bank", "name": "City-Bank", "role": "reporter"}]


def test_me_flags_council_members_and_admins(world: World) -> None:
    assert as_user(world, "council").get(f"{API}/me").json()["is_council"] is True
    assert as_user(world, "admin").get(f"{API}/me").json()["is_admin"] is True


# --- Sectors ----------------------------------------------------------------------------


def test_any_signed_in_user_lists_the_sectors(world: World) -> None:
    expected = {"banking", "telecom", "government", "health", "power", "commercial"}
    assert slugs(as_user(world, "city-bank.reporter").get(f"{API}/sectors")) == expected
    assert slugs(as_user(world, "nobody").get(f"{API}/sectors")) == expected


# --- Teams ------------------------------------------------------------------------------


def test_banking_analyst_lists_its_team_and_reporting_line_only(world: World) -> None:
    teams = as_user(world, "banking.analyst").get(f"{API}/teams").json()["items"]
    assert {t["slug"]: t["parent"] for t in teams} == {"national": None, "banking": "national"}
    assert {t["kind"] for t in teams} == {"national", "sectoral"}


def test_banking_analyst_gets_404_for_the_telecom_team(world: World) -> None:
    client = as_user(world, "banking.analyst")
    assert_not_found(client.get(f"{API}/teams/telecom"))
    # The same answer as a team that does not exist: nothing is revealed.
    assert client.get(f"{API}/teams/telecom").json() == client.get(f"{API}/teams/nope").json()


def test_team_detail_shows_reporting_line_root_first_and_visible_children(world: World) -> None:
    detail = as_user(world, "punjab.analyst").get(f"{API}/teams/punjab").json()
    assert detail["slug"] == "punjab"
    assert detail["kind"] == "provincial"
    assert detail["parent"] == "government"
    assert detail["ancestors"] == ["national", "government"]
    assert detail["children"] == []


def test_children_of_a_team_are_only_the_visible_ones(world: World) -> None:
    # Punjab sees the Government CERT (its reporting line), but not its sibling Sindh.
    government = as_user(world, "punjab.analyst").get(f"{API}/teams/government").json()
    assert government["children"] == ["punjab"]
    national = as_user(world, "national.analyst").get(f"{API}/teams/national").json()
    assert set(national["children"]) == {"government", "cii", "banking", "telecom", "federal"}
    assert national["ancestors"] == []


def test_council_member_sees_the_whole_team_tree(world: World) -> None:
    client = as_user(world, "council")
    assert slugs(client.get(f"{API}/teams")) == set(world.teams)
    assert client.get(f"{API}/teams/sindh").status_code == 200


def test_user_without_membership_sees_no_team(world: World) -> None:
    client = as_user(world, "nobody")
    assert slugs(client.get(f"{API}/teams")) == set()
    assert_not_found(client.get(f"{API}/teams/national"))


# --- Organizations ----------------------------------------------------------------------


def test_banking_analyst_lists_banking_organizations_and_not_telco(world: World) -> None:
    assert slugs(as_user(world, "banking.analyst").get(f"{API}/organizations")) == {
        "national-bank",
        "city-bank",
    }


def test_banking_analyst_gets_404_for_the_telco_organization(world: World) -> None:
    assert_not_found(as_user(world, "banking.analyst").get(f"{API}/organizations/telco"))


def test_punjab_analyst_gets_404_for_sindh_water(world: World) -> None:
    client = as_user(world, "punjab.analyst")
    assert slugs(client.get(f"{API}/organizations")) == {"punjab-health"}
    assert_not_found(client.get(f"{API}/organizations/sindh-water"))


def test_reporter_of_city_bank_sees_only_its_own_organization(world: World) -> None:
    client = as_user(world, "city-bank.reporter")
    assert slugs(client.get(f"{API}/organizations")) == {"city-bank"}
    assert client.get(f"{API}/organizations/city-bank").status_code == 200
    assert_not_found(client.get(f"{API}/organizations/national-bank"))


def test_council_member_sees_teams_but_gets_404_for_organizations(world: World) -> None:
    client = as_user(world, "council")
    assert slugs(client.get(f"{API}/organizations")) == set()
    assert_not_found(client.get(f"{API}/organizations/national-bank"))


def test_national_analyst_sees_every_organization(world: World) -> None:
    assert slugs(as_user(world, "national.analyst").get(f"{API}/organizations")) == set(world.orgs)


def test_government_analyst_sees_provincial_organizations(world: World) -> None:
    assert slugs(as_user(world, "government.analyst").get(f"{API}/organizations")) == {
        "ministry",
        "punjab-health",
        "sindh-water",
    }


def test_session_login_reads_the_same_scope_as_a_token(world: World) -> None:
    client = session_client(world.users["banking.analyst"])
    assert slugs(client.get(f"{API}/organizations")) == {"national-bank", "city-bank"}
    assert_not_found(client.get(f"{API}/organizations/telco"))


def test_organization_detail_has_assets_and_contacts(world: World) -> None:
    bank = world.orgs["national-bank"]
    Contact.objects.create(
        organization=bank,
        name="Bank SOC",
        role="SOC",
        email="soc@nationalbank.example",
        phone="+92 21 111 000 111",
        notifications=[NotificationKind.INCIDENTS, NotificationKind.ADVISORIES],
    )
    detail = as_user(world, "banking.analyst").get(f"{API}/organizations/national-bank").json()
    assert detail["name"] == "National-Bank"
    assert detail["sector"] == "banking"
    assert detail["responsible_team"] == "banking"
    assert detail["is_cii"] is False
    assert {(a["kind"], a["value"]) for a in detail["assets"]} == {
        ("cidr", "192.0.2.0/24"),
        ("domain", "nationalbank.example"),
    }
    assert detail["contacts"] == [
        {
            "name": "Bank SOC",
            "role": "SOC",
            "email": "soc@nationalbank.example",
            "phone": "+92 21 111 000 111",
            "pgp_fingerprint": "",
            "notifications": ["incidents", "advisories"],
        }
    ]


def test_cii_organization_shows_its_grade(world: World) -> None:
    city = as_user(world, "banking.analyst").get(f"{API}/organizations/city-bank").json()
    assert (city["is_cii"], city["cii_grade"]) == (True, "1")


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("sector=power", {"grid", "sindh-water"}),
        ("team=government", {"ministry", "punjab-health", "sindh-water"}),
        ("team=punjab", {"punjab-health"}),
        ("cii=true", {"grid", "city-bank"}),
        ("cii=false&sector=banking", {"national-bank"}),
        ("q=BANK", {"national-bank", "city-bank"}),
        ("q=water&team=government", {"sindh-water"}),
        ("sector=no-such-sector", set()),
        ("team=no-such-team", set()),
        ("sector=&team=", None),
    ],
)
def test_national_analyst_filters_organizations(
    world: World, query: str, expected: set[str] | None
) -> None:
    found = slugs(as_user(world, "national.analyst").get(f"{API}/organizations?{query}"))
    assert found == (expected if expected is not None else set(world.orgs))


def test_filtering_by_another_branch_team_reveals_nothing(world: World) -> None:
    client = as_user(world, "banking.analyst")
    assert slugs(client.get(f"{API}/organizations?team=telecom")) == set()
    assert slugs(client.get(f"{API}/organizations?team=national")) == {
        "national-bank",
        "city-bank",
    }


@pytest.mark.parametrize(
    "query", ["sector=%00", "team=a%20b", "q=%00", "cii=maybe", "q=" + "x" * 201]
)
def test_malformed_filters_answer_422_json(world: World, query: str) -> None:
    response = as_user(world, "national.analyst").get(f"{API}/organizations?{query}")
    assert response.status_code == 422
    assert response.json()["detail"]


@pytest.mark.parametrize("path", ["/teams/a%00b", "/organizations/a%00b", "/teams/a.b"])
def test_malformed_slug_in_the_path_is_refused_without_error(world: World, path: str) -> None:
    response = as_user(world, "national.analyst").get(API + path)
    assert response.status_code in (404, 422)
    assert response.json()["detail"]


# --- Pagination -------------------------------------------------------------------------


def walk(client: Client, path: str, limit: int) -> list[list[str]]:
    pages: list[list[str]] = []
    cursor = None
    while True:
        url = f"{path}?limit={limit}" + (f"&cursor={cursor}" if cursor else "")
        body = client.get(url).json()
        pages.append([item["slug"] for item in body["items"]])
        cursor = body["next_cursor"]
        if cursor is None:
            return pages


def test_pagination_walks_every_organization_once(world: World) -> None:
    for i in range(20 - len(world.orgs)):
        make_org(f"bank-{i:02d}", world.teams["banking"], "banking")
    client = as_user(world, "national.analyst")
    pages = walk(client, f"{API}/organizations", limit=5)
    seen = [slug for page in pages for slug in page]
    assert [len(page) for page in pages] == [5, 5, 5, 5]
    assert len(seen) == len(set(seen)) == 20
    assert seen == sorted(seen)


def test_pagination_of_teams_and_sectors(world: World) -> None:
    client = as_user(world, "admin")
    teams = [slug for page in walk(client, f"{API}/teams", limit=2) for slug in page]
    assert sorted(teams) == sorted(world.teams)  # each once, none missing
    sectors = [slug for page in walk(client, f"{API}/sectors", limit=4) for slug in page]
    assert len(sectors) == len(set(sectors)) == 6


def test_the_last_page_has_no_cursor(world: World) -> None:
    body = as_user(world, "banking.analyst").get(f"{API}/organizations?limit=2").json()
    assert len(body["items"]) == 2
    assert body["next_cursor"] is None


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("limit=0", 400),
        ("limit=501", 400),
        ("limit=-3", 400),
        ("limit=ten", 422),
        ("cursor=not-a-cursor!", 400),
        ("cursor=W251bGxd", 400),  # a forged cursor holding null
        ("cursor=W3siYSI6IDF9XQ", 400),  # a forged cursor holding an object
    ],
)
def test_bad_limit_or_cursor_answers_with_a_message(world: World, query: str, status: int) -> None:
    response = as_user(world, "national.analyst").get(f"{API}/organizations?{query}")
    assert response.status_code == status
    assert response.json()["detail"]


def test_limit_of_500_is_accepted(world: World) -> None:
    assert as_user(world, "admin").get(f"{API}/organizations?limit=500").status_code == 200


# --- No N+1 -----------------------------------------------------------------------------


def _queries(client: Client, url: str) -> int:
    client.get(url)  # warm up: session, token last-used stamp
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


@pytest.mark.parametrize(
    "url",
    [
        f"{API}/organizations",
        f"{API}/teams",
        f"{API}/sectors",
        f"{API}/organizations?team=national&sector=banking&q=b",
    ],
)
def test_list_endpoints_cost_the_same_with_5_or_50_organizations(url: str) -> None:
    national = make_team("national", TeamKind.NATIONAL)
    analyst = make_user("analyst", team=national)
    client = bearer_client(analyst)
    for i in range(5):
        team = make_team(f"team-{i}", parent=national)
        make_org(f"bank-{i}", team, f"sector-{i}")
    few = _queries(client, url)
    for i in range(5, 50):
        team = make_team(f"team-{i}", parent=national)
        make_org(f"bank-{i}", team, f"sector-{i}")
    many = _queries(client, url)
    assert few == many


def test_organization_detail_cost_does_not_grow_with_assets(world: World) -> None:
    bank = world.orgs["national-bank"]
    client = as_user(world, "banking.analyst")
    url = f"{API}/organizations/national-bank"
    few = _queries(client, url)
    for i in range(20):
        make_asset(bank, AssetKind.DOMAIN, f"branch{i}.nationalbank.example")
        Contact.objects.create(organization=bank, name=f"Branch {i}", email=f"b{i}@bank.example")
    assert _queries(client, url) == few


# --- Lookup -----------------------------------------------------------------------------


def test_lookup_of_an_ipv4_address_names_the_owner_and_the_network(world: World) -> None:
    body = as_user(world, "banking.analyst").get(f"{API}/lookup?ip=192.0.2.77").json()
    assert body == {
        "organization": {
            "slug": "national-bank",
            "name": "National-Bank",
            "sector": "banking",
            "responsible_team": "banking",
        },
        "asset": {"kind": "cidr", "value": "192.0.2.0/24"},
    }


def test_lookup_takes_the_longest_matching_prefix(world: World) -> None:
    make_asset(world.orgs["ministry"], AssetKind.CIDR, "10.20.0.0/16")
    make_asset(world.orgs["punjab-health"], AssetKind.CIDR, "10.20.30.0/24")
    client = as_user(world, "government.analyst")
    inner = client.get(f"{API}/lookup?ip=10.20.30.40").json()
    assert (inner["organization"]["slug"], inner["asset"]["value"]) == (
        "punjab-health",
        "10.20.30.0/24",
    )
    outer = client.get(f"{API}/lookup?ip=10.20.31.1").json()
    assert (outer["organization"]["slug"], outer["asset"]["value"]) == ("ministry", "10.20.0.0/16")


def test_lookup_of_an_ipv6_address(world: World) -> None:
    body = as_user(world, "telecom.analyst").get(f"{API}/lookup?ip=2001:db8:1::5").json()
    assert body["organization"]["slug"] == "telco"
    assert body["asset"] == {"kind": "cidr", "value": "2001:db8::/32"}


@pytest.mark.parametrize("asn", ["AS64500", "64500", "as64500"])
def test_lookup_of_an_as_number_in_either_form(world: World, asn: str) -> None:
    body = as_user(world, "telecom.analyst").get(f"{API}/lookup?asn={asn}").json()
    assert body["organization"]["slug"] == "telco"
    assert body["asset"] == {"kind": "asn", "value": "AS64500"}


def test_lookup_of_a_host_name_finds_the_registered_domain(world: World) -> None:
    body = as_user(world, "banking.analyst").get(f"{API}/lookup?domain=www.nationalbank.example")
    assert body.json()["organization"]["slug"] == "national-bank"
    assert body.json()["asset"] == {"kind": "domain", "value": "nationalbank.example"}


@pytest.mark.parametrize("query", ["ip=198.51.100.7", "ip=2001:db8::1", "asn=AS64500", "asn=64500"])
def test_banking_analyst_cannot_look_up_telco_resources(world: World, query: str) -> None:
    assert_not_found(as_user(world, "banking.analyst").get(f"{API}/lookup?{query}"))


def test_banking_analyst_cannot_look_up_a_telco_domain(world: World) -> None:
    make_asset(world.orgs["telco"], AssetKind.DOMAIN, "telco.example")
    assert_not_found(
        as_user(world, "banking.analyst").get(f"{API}/lookup?domain=mail.telco.example")
    )


def test_lookup_answers_the_same_for_unowned_and_invisible_resources(world: World) -> None:
    client = as_user(world, "punjab.analyst")
    invisible = client.get(f"{API}/lookup?ip=203.0.113.200")  # Sindh's network
    unowned = client.get(f"{API}/lookup?ip=100.64.0.1")
    assert invisible.status_code == unowned.status_code == 404
    assert invisible.json() == unowned.json()
    assert client.get(f"{API}/lookup?ip=203.0.113.5").json()["organization"]["slug"] == (
        "punjab-health"
    )


def test_council_member_cannot_look_up_owners(world: World) -> None:
    assert_not_found(as_user(world, "council").get(f"{API}/lookup?ip=192.0.2.1"))


@pytest.mark.parametrize(
    "query",
    [
        "",
        "ip=192.0.2.1&asn=64500",
        "ip=192.0.2.1&domain=nationalbank.example",
        "ip=999.1.1.1",
        "ip=not-an-ip",
        "asn=ASX",
        "asn=0",
        "domain=-bad-.example",
        "domain=%00",
    ],
)
def test_invalid_lookup_answers_400_with_a_message(world: World, query: str) -> None:
    response = as_user(world, "national.analyst").get(f"{API}/lookup?{query}")
    assert response.status_code == 400, response.content
    assert response.json()["detail"]
