"""The advisory pages in certhub: CERT staff write a draft in the form (products and CVEs
one per line), submit it, a coordinator publishes it; organizations find it in their
inbox, read it and answer; another branch gets 404 everywhere."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from certhub.advisories.models import Acknowledgement, Advisory
from tests.advisories.conftest import V3_CRITICAL, distribute, for_banks, publish
from tests.factories import World

pytestmark = pytest.mark.django_db

FORM: dict[str, Any] = {
    "title": "Authentication bypass in Example VPN",
    "summary": "An attacker logs in without a password.",
    "details": "## Impact\n\nFull network access.",
    "severity": "critical",
    "exploitation": "active",
    "products": "Example Networks; Example VPN; < 9.1.4; 9.1.4\nExample Networks; VPN Client",
    "cves": f"CVE-2026-40001; {V3_CRITICAL}; Missing check in the login handler",
    "remediation_category": "vendor_fix",
    "remediation": "Update to 9.1.4.",
    "workarounds": "",
    "references": "https://vendor.example/PSIRT-1 Vendor notice",
    "tlp": "AMBER",
    "audience_kind": "sectors",
    "audience_sectors": ["banking"],
    "red_recipient_users": "",
    "ack_within_hours": "",
}


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_an_analyst_writes_a_draft_in_the_form_and_a_coordinator_publishes_it(
    world: World,
) -> None:
    analyst = client_for(world.users["national.analyst"])
    form = analyst.get("/advisories/new/")
    assert form.status_code == 200
    assert "vendor; product; affected versions; fixed version" in form.content.decode()
    created = analyst.post("/advisories/new/", FORM)
    assert created.status_code == 302, created.content.decode()[-3000:]
    advisory = Advisory.objects.get()
    assert created["Location"] == f"/advisories/{advisory.tracking_id}/"
    assert [
        (p.vendor, p.product, p.versions, p.fixed_version) for p in advisory.products.all()
    ] == [
        ("Example Networks", "Example VPN", "< 9.1.4", "9.1.4"),
        ("Example Networks", "VPN Client", "", ""),
    ]
    (cve,) = advisory.cves.all()
    assert (cve.cve, float(cve.cvss_v3_score or 0), cve.title) == (
        "CVE-2026-40001",
        9.8,
        "Missing check in the login handler",
    )
    assert advisory.references == [
        {"url": "https://vendor.example/PSIRT-1", "summary": "Vendor notice"}
    ]

    page = analyst.get(created["Location"]).content.decode()
    assert "Draft, not published" in page
    assert "Submit for review" in page
    edit = analyst.get(f"/advisories/{advisory.tracking_id}/edit/").content.decode()
    assert "Example Networks; Example VPN; &lt; 9.1.4; 9.1.4" in edit  # the form round-trips

    assert analyst.post(f"/advisories/{advisory.tracking_id}/submit/").status_code == 302
    refused = analyst.post(f"/advisories/{advisory.tracking_id}/publish/", follow=True)
    assert "Only a coordinator" in refused.content.decode()
    coordinator = client_for(world.users["national.coordinator"])
    assert "Publish" in coordinator.get(f"/advisories/{advisory.tracking_id}/").content.decode()
    published = coordinator.post(
        f"/advisories/{advisory.tracking_id}/publish/", {"change_summary": ""}, follow=True
    )
    assert "Published as revision 1" in published.content.decode()
    advisory.refresh_from_db()
    assert advisory.status == "published"

    withdrawn = coordinator.post(
        f"/advisories/{advisory.tracking_id}/withdraw/", {"reason": "Duplicate"}, follow=True
    )
    assert "Withdrawn" in withdrawn.content.decode()
    advisory.refresh_from_db()
    assert advisory.status == "withdrawn"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("products", "Example Networks", "Line 1: write vendor; product"),
        ("products", "", "name at least one affected product"),
        ("cves", "CVE-2026-40001; CVSS:3.1/AV:X", "CVE-2026-40001"),
        ("cves", "CVE-2026-1; CVSS:2.0/AV:N", "Line 1: only CVSS v3.x and v4.0"),
        ("references", "ftp://vendor.example/x", "Line 1: start with an http(s) address."),
    ],
)
def test_the_form_says_what_is_wrong(world: World, field: str, value: str, message: str) -> None:
    analyst = client_for(world.users["national.analyst"])
    response = analyst.post("/advisories/new/", {**FORM, field: value})
    if response.status_code == 302:  # saved: the gap shows when it is submitted
        response = analyst.post(f"{response['Location']}submit/", follow=True)
    else:
        assert response.status_code == 400
        assert not Advisory.objects.exists()
    assert message in response.content.decode()


def test_an_organization_finds_it_in_its_inbox_reads_it_and_answers(world: World) -> None:
    advisory = publish(world, **for_banks())
    distribute(advisory)
    reporter = client_for(world.users["national-bank.reporter"])
    inbox = reporter.get("/advisories/inbox/").content.decode()
    assert advisory.tracking_id in inbox
    assert "Unread" in inbox

    page = reporter.get(f"/advisories/{advisory.tracking_id}/").content.decode()
    assert "Remote code execution in Example HTTP Server" in page
    assert "Applied the remediation" in page
    assert "Edit" not in page
    assert '<span class="badge">Read</span>' in reporter.get("/advisories/inbox/").content.decode()

    answered = reporter.post(
        f"/advisories/{advisory.tracking_id}/acknowledge/",
        {"state": "applied", "organization": "national-bank"},
        follow=True,
    )
    assert "National-Bank answered “Applied the remediation”" in answered.content.decode()
    assert Acknowledgement.objects.get().state == "applied"
    assert "Acknowledged" in reporter.get("/advisories/inbox/").content.decode()

    needs_words = reporter.post(
        f"/advisories/{advisory.tracking_id}/acknowledge/", {"state": "need_help"}, follow=True
    )
    assert "Say what you need help with." in needs_words.content.decode()

    rates = client_for(world.users["national.coordinator"]).get(
        f"/advisories/{advisory.tracking_id}/acknowledgements/"
    )
    assert "1 of 2 acknowledged" in rates.content.decode()


def test_another_branch_gets_404_on_every_page(world: World) -> None:
    advisory = publish(world, **for_banks())
    distribute(advisory)
    telco = client_for(world.users["telco.reporter"])
    base = f"/advisories/{advisory.tracking_id}/"
    for path in ("", "pdf/", "acknowledgements/", "edit/"):
        assert telco.get(base + path).status_code == 404, path
    for path in ("acknowledge/", "submit/", "publish/", "withdraw/"):
        assert telco.post(base + path, {"state": "applied", "reason": "x"}).status_code == 404
    assert advisory.tracking_id not in telco.get("/advisories/inbox/").content.decode()
    assert advisory.tracking_id not in telco.get("/advisories/").content.decode()
    # A reader in the audience cannot open the authoring pages either.
    bank = client_for(world.users["national-bank.reporter"])
    assert bank.get(base + "edit/").status_code == 404
    assert bank.get(base + "acknowledgements/").status_code == 404
    assert not Acknowledgement.objects.exists()


def test_the_list_shows_drafts_to_the_authoring_line_only(world: World) -> None:
    from tests.advisories.conftest import draft

    banking_draft = draft(world, author="banking.analyst", title="Banking draft")
    national = client_for(world.users["national.analyst"]).get("/advisories/").content.decode()
    assert banking_draft.tracking_id in national
    assert "New advisory" in national
    telecom = client_for(world.users["telecom.analyst"]).get("/advisories/").content.decode()
    assert banking_draft.tracking_id not in telecom
    assert client_for(world.users["nobody"]).get("/advisories/new/").status_code == 200
    refused = client_for(world.users["nobody"]).post("/advisories/new/", FORM)
    assert refused.status_code == 400
    assert "Only analysts and coordinators of a CERT write advisories." in refused.content.decode()
