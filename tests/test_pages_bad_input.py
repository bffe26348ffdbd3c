"""Pages answer bad query parameters with a page or a 4xx, never a 500: every list and
filter page of every app, signed in as a national coordinator and as a reporter."""

from __future__ import annotations

from typing import Any

import pytest

from tests.factories import World

pytestmark = pytest.mark.django_db

GARBAGE = {
    "page": "-1'",
    "cursor": "!!",
    "priority": "nine",
    "status": "<script>",
    "overdue": "maybe",
    "q": "\x00%",
    "sector": "no-such-sector",
    "team": "../../etc",
    "day": "2026-13-45",
    "ip": "300.1.1.1/99",
    "year": "twenty",
    "severity": "extreme",
    "cii": "perhaps",
    "organization": "\x00",
    "tlp": "WHITE",
}

PAGES = [
    "/directory/",
    "/taxii2/collections/",
    "/incidents/",
    "/feeds/events/",
    "/feeds/runs/",
    "/advisories/",
    "/advisories/inbox/",
    "/security-advisories/",
    "/security-advisories/feed.atom",
    "/notifications/preferences/",
    "/directory/cii/",
    "/council/recommendations/",
    "/council/meetings/",
    "/council/disputes/",
    "/awareness/",
    "/awareness/national/",
    "/awareness/council/",
    "/awareness/organization/national-bank/",
    "/awareness/reports/",
    "/intel/",
    "/intel/value/",
]


@pytest.mark.parametrize("username", ["national.coordinator", "national-bank.reporter"])
def test_list_pages_survive_garbage_parameters(
    client: Any, world: World, settings: Any, username: str
) -> None:
    settings.CERTHUB_REQUIRE_MFA = False
    client.force_login(world.users[username])
    for page in PAGES:
        response = client.get(page, GARBAGE)
        assert response.status_code < 500, f"{page} answered {response.status_code}"
        for name, value in GARBAGE.items():
            response = client.get(page, {name: value})
            assert response.status_code < 500, (
                f"{page}?{name}={value!r} answered {response.status_code}"
            )
