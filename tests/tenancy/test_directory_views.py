"""The constituency directory pages: each user sees its part of the tree, the
organizations it may see (filterable), and a 404 page for anything else."""

from __future__ import annotations

import re
import warnings
from typing import Any

import pysequoia
import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from certhub.tenancy.choices import AssetKind, NotificationKind, TeamKind
from certhub.tenancy.models import Contact
from tests.factories import World, make_asset, make_org, make_team, make_user

pytestmark = pytest.mark.django_db

DIRECTORY = reverse("tenancy:directory")


@pytest.fixture(autouse=True)
def _no_mfa_enrolment(settings: Any) -> None:
    # What each user may read is the story here; enrolling CERT staff in a second factor
    # is the accounts tests' (the middleware would otherwise send them to enrol first).
    settings.CERTHUB_REQUIRE_MFA = False


def signed_in(world: World, name: str) -> Client:
    client = Client()
    client.force_login(world.users[name])
    return client


def org_url(slug: str) -> str:
    return reverse("tenancy:organization_detail", args=[slug])


def team_url(slug: str) -> str:
    return reverse("tenancy:team_detail", args=[slug])


def listed_orgs(response: Any) -> set[str]:
    """Slugs of the organizations linked from the organizations table."""
    assert response.status_code == 200
    page = response.context["page"]
    return {org.slug for org in page.object_list}


# --- Sign-in ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url", [DIRECTORY, "/directory/teams/banking/", "/directory/organizations/national-bank/"]
)
def test_anonymous_visitor_is_sent_to_sign_in(world: World, url: str) -> None:
    response = Client().get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_home_leads_to_the_directory(world: World) -> None:
    response = signed_in(world, "banking.analyst").get("/", follow=True)
    assert response.redirect_chain[-1][0] == DIRECTORY


# --- Directory --------------------------------------------------------------------------


def test_banking_analyst_sees_banking_organizations_and_not_telco(world: World) -> None:
    response = signed_in(world, "banking.analyst").get(DIRECTORY)
    assert listed_orgs(response) == {"national-bank", "city-bank"}
    html = response.content.decode()
    assert f'href="{org_url("national-bank")}"' in html
    assert f'href="{org_url("city-bank")}"' in html
    assert "telco" not in html.lower()


def test_directory_table_shows_sector_team_and_cii_grade(world: World) -> None:
    html = signed_in(world, "banking.analyst").get(DIRECTORY).content.decode()
    assert "CII grade 1" in html  # city-bank
    assert f'href="{team_url("banking")}"' in html
    assert "Banking" in html


def test_banking_analyst_sees_its_reporting_line_in_the_team_tree(world: World) -> None:
    response = signed_in(world, "banking.analyst").get(DIRECTORY)
    tree = response.context["team_tree"]
    assert [node.team.slug for node in tree] == ["national"]
    assert [child.team.slug for child in tree[0].children] == ["banking"]
    html = response.content.decode()
    assert "National CERT" in html  # the kind is shown
    assert "Sectoral CERT" in html
    assert f'href="{team_url("telecom")}"' not in html


def test_national_analyst_sees_the_whole_tree_nested(world: World) -> None:
    tree = signed_in(world, "national.analyst").get(DIRECTORY).context["team_tree"]
    (national,) = tree
    below = {child.team.slug: child for child in national.children}
    assert set(below) == {"government", "cii", "banking", "telecom", "federal"}
    assert {c.team.slug for c in below["government"].children} == {"punjab", "sindh"}


def test_reporter_sees_only_its_own_organization(world: World) -> None:
    client = signed_in(world, "city-bank.reporter")
    assert listed_orgs(client.get(DIRECTORY)) == {"city-bank"}
    assert client.get(org_url("city-bank")).status_code == 200
    assert client.get(org_url("national-bank")).status_code == 404


def test_council_member_sees_the_tree_but_no_organization(world: World) -> None:
    client = signed_in(world, "council")
    response = client.get(DIRECTORY)
    assert listed_orgs(response) == set()
    assert len(response.context["team_tree"]) == 1
    assert client.get(team_url("sindh")).status_code == 200
    assert client.get(org_url("grid")).status_code == 404


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"sector": "power"}, {"grid", "sindh-water"}),
        ({"team": "government"}, {"ministry", "punjab-health", "sindh-water"}),
        ({"cii": "on"}, {"grid", "city-bank"}),
        ({"q": "bank"}, {"national-bank", "city-bank"}),
        ({"q": "water", "team": "government", "sector": "power"}, {"sindh-water"}),
    ],
)
def test_filters_narrow_the_organizations(
    world: World, query: dict[str, str], expected: set[str]
) -> None:
    response = signed_in(world, "national.analyst").get(DIRECTORY, query)
    assert listed_orgs(response) == expected


def test_filter_choices_are_only_what_the_user_may_see(world: World) -> None:
    form = signed_in(world, "banking.analyst").get(DIRECTORY).context["form"]
    assert [slug for slug, _label in form.fields["team"].choices] == ["", "national", "banking"]


def test_filtering_by_an_invisible_team_is_ignored_not_widened(world: World) -> None:
    response = signed_in(world, "banking.analyst").get(DIRECTORY, {"team": "telecom"})
    assert listed_orgs(response) == {"national-bank", "city-bank"}
    assert response.context["form"].errors["team"]
    assert "telco" not in response.content.decode().lower()


def test_a_nul_byte_in_the_search_is_a_form_error_not_a_crash(world: World) -> None:
    response = signed_in(world, "national.analyst").get(DIRECTORY, {"q": "a\x00b"})
    assert response.status_code == 200
    assert response.context["form"].errors["q"]


def test_htmx_filter_request_gets_only_the_table(world: World) -> None:
    client = signed_in(world, "national.analyst")
    response = client.get(DIRECTORY, {"sector": "banking"}, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert listed_orgs(response) == {"national-bank", "city-bank"}
    assert "<html" not in html
    assert "<table" in html
    assert "HX-Request" in response["Vary"]
    # A history restore (back button after the cache was lost) needs the whole page.
    restore = client.get(
        DIRECTORY,
        {"sector": "banking"},
        headers={"HX-Request": "true", "HX-History-Restore-Request": "true"},
    )
    assert "<html" in restore.content.decode()


def test_the_filter_form_works_without_javascript(world: World) -> None:
    html = signed_in(world, "national.analyst").get(DIRECTORY).content.decode()
    assert f'<form method="get" action="{DIRECTORY}"' in html
    assert 'hx-get="' in html  # the enhancement is there, but the plain form is complete
    assert 'type="submit"' in html


def test_pagination_splits_long_lists_and_keeps_the_filters(world: World) -> None:
    for i in range(30):
        make_org(f"branch-{i:02d}", world.teams["banking"], "banking", name=f"Branch {i:02d}")
    client = signed_in(world, "banking.analyst")
    first = client.get(DIRECTORY, {"sector": "banking"})
    assert len(first.context["page"].object_list) == 25
    assert "sector=banking&amp;page=2" in first.content.decode()
    second = client.get(DIRECTORY, {"sector": "banking", "page": "2"})
    assert len(second.context["page"].object_list) == 32 - 25
    assert listed_orgs(first).isdisjoint(listed_orgs(second))
    # Nonsense page numbers fall back to a real page rather than an error.
    assert client.get(DIRECTORY, {"page": "zzz"}).status_code == 200
    assert client.get(DIRECTORY, {"page": "999"}).status_code == 200


def test_directory_cost_does_not_grow_with_the_organizations() -> None:
    national = make_team("national", TeamKind.NATIONAL)
    client = Client()
    client.force_login(make_user("analyst", team=national))

    def count() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(DIRECTORY).status_code == 200
        return len(captured)

    for i in range(5):
        make_org(f"org-{i}", make_team(f"team-{i}", parent=national), f"sector-{i}")
    few = count()
    for i in range(5, 20):
        make_org(f"org-{i}", make_team(f"team-{i}", parent=national), f"sector-{i}")
    assert count() == few


# --- Organization detail ----------------------------------------------------------------


def _public_key() -> tuple[str, str]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        secret = pysequoia.Tsk.generate("Bank SOC <soc@nationalbank.example>")
    cert = secret.extract_certificate()
    return str(cert), cert.fingerprint.upper()


def test_organization_page_shows_assets_contacts_and_grouped_fingerprint(world: World) -> None:
    armored, fingerprint = _public_key()
    Contact.objects.create(
        organization=world.orgs["national-bank"],
        name="Bank SOC",
        role="Security operations",
        email="soc@nationalbank.example",
        pgp_key=armored,
        notifications=[NotificationKind.INCIDENTS],
    )
    response = signed_in(world, "banking.analyst").get(org_url("national-bank"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "192.0.2.0/24" in html
    assert "nationalbank.example" in html
    assert "soc@nationalbank.example" in html
    assert "Incident updates" in html
    grouped = " ".join(fingerprint[i : i + 4] for i in range(0, len(fingerprint), 4))
    assert grouped in html
    assert f'href="{team_url("banking")}"' in html


def test_cii_organization_page_shows_grade_and_review_date(world: World) -> None:
    city = world.orgs["city-bank"]
    city.cii_review_date = "2027-03-31"
    city.save()
    html = signed_in(world, "banking.analyst").get(org_url("city-bank")).content.decode()
    assert "Grade 1 (national impact)" in html
    assert "2027" in html


def test_banking_analyst_gets_404_for_the_telco_organization(world: World) -> None:
    response = signed_in(world, "banking.analyst").get(org_url("telco"))
    assert response.status_code == 404
    assert "198.51.100.0/24" not in response.content.decode()


def test_punjab_analyst_gets_404_for_sindh_water(world: World) -> None:
    assert signed_in(world, "punjab.analyst").get(org_url("sindh-water")).status_code == 404


def test_unknown_and_invisible_organizations_look_the_same(world: World) -> None:
    client = signed_in(world, "banking.analyst")
    invisible = client.get(org_url("telco"))
    unknown = client.get(org_url("no-such-org"))
    assert invisible.status_code == unknown.status_code == 404

    def without_per_response_secrets(html: bytes) -> str:
        # The CSRF token is masked anew and the CSP nonce drawn anew for every response.
        html_text = re.sub(r'nonce="[^"]*"', 'nonce=""', html.decode())
        return re.sub(r"[A-Za-z0-9]{64}", "<token>", html_text)

    assert without_per_response_secrets(invisible.content) == without_per_response_secrets(
        unknown.content
    )


# --- Team detail ------------------------------------------------------------------------


def test_team_page_shows_reporting_line_sub_teams_contacts_and_organizations(
    world: World,
) -> None:
    Contact.objects.create(
        team=world.teams["government"], name="Duty officer", email="duty@gov-cert.example"
    )
    response = signed_in(world, "government.analyst").get(team_url("government"))
    assert response.status_code == 200
    assert [t.slug for t in response.context["detail"].ancestors] == ["national"]
    html = response.content.decode()
    assert f'href="{team_url("national")}"' in html
    assert f'href="{team_url("punjab")}"' in html
    assert f'href="{team_url("sindh")}"' in html
    assert "duty@gov-cert.example" in html
    assert f'href="{org_url("ministry")}"' in html
    # Responsible directly for the ministry only; the provinces' organizations are theirs.
    assert f'href="{org_url("punjab-health")}"' not in html


def test_sub_teams_are_only_the_visible_ones(world: World) -> None:
    html = signed_in(world, "punjab.analyst").get(team_url("government")).content.decode()
    assert f'href="{team_url("punjab")}"' in html
    assert f'href="{team_url("sindh")}"' not in html
    # Above its own team, Punjab sees the line but not the Government CERT's organizations.
    assert f'href="{org_url("ministry")}"' not in html


def test_banking_analyst_gets_404_for_the_telecom_team(world: World) -> None:
    assert signed_in(world, "banking.analyst").get(team_url("telecom")).status_code == 404


def test_reporter_sees_its_responsible_team_with_only_its_own_organization(
    world: World,
) -> None:
    response = signed_in(world, "city-bank.reporter").get(team_url("banking"))
    assert response.status_code == 200
    assert {org.slug for org in response.context["detail"].organizations} == {"city-bank"}


def test_the_404_page_is_the_site_page(world: World) -> None:
    response = signed_in(world, "banking.analyst").get(team_url("telecom"))
    html = response.content.decode()
    assert "Not found" in html
    assert 'class="site-header"' in html


def test_asset_added_to_an_organization_shows_on_its_page(world: World) -> None:
    make_asset(world.orgs["national-bank"], AssetKind.ASN, "64496")
    html = signed_in(world, "banking.analyst").get(org_url("national-bank")).content.decode()
    assert "AS64496" in html
