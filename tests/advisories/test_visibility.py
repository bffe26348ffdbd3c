"""Who reads which advisory: TLP and audience through the one sharing check, drafts only
for the authoring line, and 404 for everything else."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import Client

from certhub.advisories.selectors import advisories_visible_to
from tests.advisories.conftest import draft, publish
from tests.factories import World, bearer_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def advisories(world: World) -> dict[str, Any]:
    return {
        "clear": publish(world, title="clear"),
        "green": publish(world, title="green", tlp="GREEN"),
        "amber-banking": publish(
            world, title="amber-banking", tlp="AMBER", audience_kind="sectors",
            audience_sectors=["banking"],
        ),
        "strict-cii": publish(
            world, title="strict-cii", tlp="AMBER+STRICT", audience_kind="cii"
        ),
        "amber-telco": publish(
            world, title="amber-telco", tlp="AMBER", audience_kind="organizations",
            audience_organizations=["telco"],
        ),
        "amber-provincial": publish(
            world, title="amber-provincial", tlp="AMBER", audience_kind="tiers",
            audience_team_kinds=["provincial"],
        ),
        "red-named": publish(
            world, title="red-named", tlp="RED", red_recipient_users=["telco.reporter"],
            red_recipient_teams=["banking"],
        ),
        "red-of-banking": publish(
            world, author="banking.analyst", reviewer="banking.coordinator",
            title="red-of-banking", tlp="RED", red_recipient_teams=["telecom"],
        ),
        "draft-banking": draft(world, author="banking.analyst", title="draft-banking"),
    }  # fmt: skip


EXPECTED = {
    "anonymous": {"clear"},
    "nobody": {"clear", "green"},
    "council": {"clear", "green"},
    "telco.reporter": {"clear", "green", "amber-telco", "red-named"},
    "city-bank.reporter": {"clear", "green", "amber-banking", "strict-cii"},
    "national-bank.reporter": {"clear", "green", "amber-banking"},
    "punjab-health.reporter": {"clear", "green", "amber-provincial"},
    "banking.analyst": {
        "clear", "green", "amber-banking", "strict-cii", "red-named", "red-of-banking",
        "draft-banking",
    },
    "banking.viewer": {
        "clear", "green", "amber-banking", "strict-cii", "red-named", "red-of-banking",
        "draft-banking",
    },
    "telecom.analyst": {"clear", "green", "amber-telco", "red-of-banking"},
    "sindh.analyst": {"clear", "green", "amber-provincial"},
    "government.analyst": {"clear", "green", "amber-provincial"},
    "cii.analyst": {"clear", "green", "strict-cii"},
    # The National CERT wrote most of them; it sees banking's draft through the tree, but
    # not banking's TLP:RED advisory, which is not addressed to it.
    "national.analyst": {
        "clear", "green", "amber-banking", "strict-cii", "amber-telco", "amber-provincial",
        "red-named", "draft-banking",
    },
}  # fmt: skip


@pytest.mark.parametrize("who", sorted(EXPECTED))
def test_the_visibility_matrix(world: World, advisories: dict[str, Any], who: str) -> None:
    user = AnonymousUser() if who == "anonymous" else world.users[who]
    seen = {a.title for a in advisories_visible_to(user)}
    assert seen == EXPECTED[who]


def test_a_telecom_reporter_gets_404_for_an_amber_advisory_addressed_to_banking(
    world: World, advisories: dict[str, Any]
) -> None:
    client = bearer_client(world.users["telco.reporter"])
    tracking_id = advisories["amber-banking"].tracking_id
    for suffix in ("", "/csaf"):
        response = client.get(f"/api/v1/advisories/{tracking_id}{suffix}")
        assert response.status_code == 404
        assert response.json() == {"detail": "No such advisory."}


def test_a_telecom_analyst_gets_404_for_a_banking_draft_as_for_a_missing_one(
    world: World, advisories: dict[str, Any]
) -> None:
    client = bearer_client(world.users["telecom.analyst"])
    hidden = client.get(f"/api/v1/advisories/{advisories['draft-banking'].tracking_id}")
    missing = client.get("/api/v1/advisories/CERT-SA-1999-9999")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json() == missing.json()
    patched = client.patch(
        f"/api/v1/advisories/{advisories['draft-banking'].tracking_id}",
        data={"title": "mine now"},
        content_type="application/json",
    )
    assert patched.status_code == 404


def test_an_anonymous_visitor_reads_only_clear_documents_from_the_provider(
    world: World, advisories: dict[str, Any]
) -> None:
    client = Client()
    index = client.get("/.well-known/csaf/clear/index.txt").content.decode().splitlines()
    assert index == [advisories["clear"].latest_revision.csaf_path]
    assert client.get(f"/api/v1/advisories/{advisories['clear'].tracking_id}").status_code == 401


def test_readers_see_the_published_revision_not_a_pending_edit(
    world: World, advisories: dict[str, Any]
) -> None:
    from certhub.advisories import services

    advisory = advisories["amber-banking"]
    services.update_advisory(
        actor=world.users["national.analyst"],
        advisory=advisory,
        data={"title": "secret new title", "tlp": "CLEAR"},
    )
    reader = bearer_client(world.users["national-bank.reporter"]).get(
        f"/api/v1/advisories/{advisory.tracking_id}"
    )
    assert reader.json()["title"] == "amber-banking"
    assert reader.json()["status"] == "published"
    author = bearer_client(world.users["national.analyst"]).get(
        f"/api/v1/advisories/{advisory.tracking_id}"
    )
    assert author.json()["title"] == "secret new title"
    assert author.json()["status"] == "draft"
    # The pending CLEAR label opens nothing: telecom still cannot read it.
    outsider = bearer_client(world.users["telco.reporter"])
    assert outsider.get(f"/api/v1/advisories/{advisory.tracking_id}").status_code == 404
