"""Platform administrators manage the constituency in the admin; every change is audited,
bad assets are refused there with the same words as everywhere else, and only
superusers get in."""

from __future__ import annotations

import pytest

from certhub.audit.models import AuditEntry
from certhub.tenancy.models import Organization
from tests.factories import World

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, world: World, settings):
    settings.CERTHUB_REQUIRE_MFA = False
    client.force_login(world.users["admin"])
    return client


def _org_form(world: World, **overrides) -> dict:
    data = {
        "name": "Example Microfinance",
        "slug": "example-microfinance",
        "sector": world.orgs["national-bank"].sector_id,
        "province": "",
        "responsible_team": world.teams["banking"].pk,
        "cii_grade": "",
        "website": "",
        "description": "",
        "is_active": "on",
    }
    for prefix in ("assets", "contacts", "memberships"):
        data.update({f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"})
    data.update(overrides)
    return data


def test_admin_creates_an_organization_and_it_is_audited(admin_client, world: World) -> None:
    form = _org_form(
        world,
        **{
            "assets-TOTAL_FORMS": "1",
            "assets-0-kind": "cidr",
            "assets-0-value": "100.64.9.0/24",
        },
    )
    response = admin_client.post("/admin/tenancy/organization/add/", form)
    assert response.status_code == 302, response.content.decode()[:2000]
    org = Organization.objects.get(slug="example-microfinance")
    assert org.assets.get().value == "100.64.9.0/24"
    actions = list(AuditEntry.objects.values_list("action", flat=True))
    assert "organization.create" in actions
    assert "asset.create" in actions


def test_admin_refuses_an_asset_of_another_organization(admin_client, world: World) -> None:
    form = _org_form(
        world,
        **{"assets-TOTAL_FORMS": "1", "assets-0-kind": "cidr", "assets-0-value": "192.0.2.0/24"},
    )
    response = admin_client.post("/admin/tenancy/organization/add/", form)
    assert response.status_code == 200
    assert "192.0.2.0/24 is already registered to national-bank" in response.content.decode()
    assert not Organization.objects.filter(slug="example-microfinance").exists()


def test_analysts_and_coordinators_cannot_open_the_admin(client, world: World, settings) -> None:
    settings.CERTHUB_REQUIRE_MFA = False
    client.force_login(world.users["national.coordinator"])
    response = client.get("/admin/tenancy/organization/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
