"""The public portal: anyone, without an account or JavaScript, finds the published
TLP:CLEAR advisories, searches and filters them, reads one with links to its signed CSAF
files, and follows them by Atom feed. Nothing else ever shows there."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from django.test import Client

from certhub.advisories.models import AdvisoryRevision
from tests.advisories.conftest import V3_MEDIUM, draft, publish
from tests.factories import World

pytestmark = pytest.mark.django_db
ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture
def portal_world(world: World) -> dict[str, str]:
    ids = {
        "clear": publish(world).tracking_id,
        "clear-router": publish(
            world,
            title="Denial of service in Acme Router",
            summary="Crafted packets reboot the router.",
            severity="medium",
            products=[{"vendor": "Acme", "product": "Router OS", "versions": "< 3.2"}],
            cves=[{"cve": "CVE-2026-55555", "cvss_v3_vector": V3_MEDIUM}],
        ).tracking_id,
        "green": publish(world, title="Green secret", tlp="GREEN").tracking_id,
        "amber": publish(world, title="Amber secret", tlp="AMBER", audience_kind="cii").tracking_id,
        "draft": draft(world, title="Unpublished draft").tracking_id,
    }
    return ids


def test_anyone_reads_the_clear_advisories_and_nothing_else(portal_world: dict[str, str]) -> None:
    page = Client().get("/security-advisories/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Remote code execution in Example HTTP Server" in text
    assert "Denial of service in Acme Router" in text
    for secret in ("Green secret", "Amber secret", "Unpublished draft"):
        assert secret not in text
    assert "<script" not in text.split("</head>", 1)[1]  # the page needs no JavaScript
    for key in ("green", "amber", "draft"):
        assert Client().get(f"/security-advisories/{portal_world[key]}/").status_code == 404
        assert Client().get(f"/security-advisories/{portal_world[key]}/pdf/").status_code == 404


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"q": "CVE-2026-55555"}, {"clear-router"}),
        ({"q": "example http server"}, {"clear"}),
        ({"q": "router os"}, {"clear-router"}),
        ({"q": "heap overflow in request"}, {"clear"}),  # the summary
        ({"severity": "critical"}, {"clear"}),
        ({"vendor": "Acme"}, {"clear-router"}),
        ({"vendor": "Example Software"}, {"clear"}),
        ({"q": "secret"}, set()),
    ],
)
def test_search_and_filters(
    portal_world: dict[str, str], query: dict[str, str], expected: set[str]
) -> None:
    text = Client().get("/security-advisories/", query).content.decode()
    found = {key for key, tracking_id in portal_world.items() if tracking_id in text}
    assert found == expected


def test_the_year_filter_and_an_unknown_filter_value(portal_world: dict[str, str]) -> None:
    year = AdvisoryRevision.objects.get(
        content__tracking_id=portal_world["clear"]
    ).published_at.year
    text = Client().get("/security-advisories/", {"year": str(year)}).content.decode()
    assert portal_world["clear"] in text
    assert portal_world["clear-router"] in text
    text = Client().get("/security-advisories/", {"year": str(year - 1)}).content.decode()
    assert portal_world["clear"] not in text
    # A value the form does not offer is ignored, never a 500.
    assert Client().get("/security-advisories/", {"year": "abc", "vendor": "x"}).status_code == 200


def test_an_advisory_page_links_to_its_signed_csaf_files(portal_world: dict[str, str]) -> None:
    client = Client()
    page = client.get(f"/security-advisories/{portal_world['clear']}/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "TLP:CLEAR" in text
    assert "CVE-2026-12345" in text
    assert "Example Proxy" in text
    revision = AdvisoryRevision.objects.get(content__tracking_id=portal_world["clear"])
    json_url = f"/.well-known/csaf/clear/{revision.csaf_path}"
    for suffix in ("", ".asc", ".sha256", ".sha512"):
        assert f'href="{json_url}{suffix}"' in text
        assert client.get(json_url + suffix).status_code == 200


def test_the_atom_feed_lists_the_clear_advisories(portal_world: dict[str, str]) -> None:
    response = Client().get("/security-advisories/feed.atom")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    feed = ET.fromstring(response.content)
    entries = feed.findall(f"{ATOM}entry")
    titles = {entry.findtext(f"{ATOM}title") for entry in entries}
    assert titles == {
        f"{portal_world['clear']}: Remote code execution in Example HTTP Server",
        f"{portal_world['clear-router']}: Denial of service in Acme Router",
    }
    links = {link.get("href") for entry in entries for link in entry.findall(f"{ATOM}link")}
    assert f"http://testserver/security-advisories/{portal_world['clear']}/" in links
    categories = {c.get("term") for c in feed.iter(f"{ATOM}category")}
    assert {"CVE-2026-55555", "critical"} <= categories
