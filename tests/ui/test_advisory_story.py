"""The story of issue 6 in a real browser: a National CERT analyst drafts an advisory for
the banks and a CII operator about a CVE; a coordinator reviews and publishes it; the
worker mails the banks' security contacts (and nobody in telecom); a bank's reporter
finds it in its inbox and answers "applied"; the coordinator sees "1 of 3 acknowledged".
A telecom reporter never sees it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connections

from certhub.advisories.models import Acknowledgement, Advisory
from certhub.tenancy.models import Contact
from tests.conftest import launch_chromium
from tests.factories import PASSWORD, World

pytestmark = pytest.mark.browser

SCREENSHOTS = Path("/tmp")
V3 = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"


def test_an_advisory_from_draft_to_acknowledgement(
    live_server: Any,
    transactional_db: Any,
    world: World,
    settings: Any,
    smtp_server: Any,
    tmp_path: Path,
) -> None:
    from playwright.sync_api import expect, sync_playwright

    settings.CERTHUB_REQUIRE_MFA = False
    settings.SESSION_COOKIE_SECURE = False  # the test server speaks plain HTTP
    settings.CSRF_COOKIE_SECURE = False
    settings.DATA_DIR = tmp_path  # the platform signing key of this test
    settings.CERTHUB_BASE_URL = live_server.url
    base = live_server.url
    for slug, org in world.orgs.items():
        Contact.objects.create(
            organization=org, name="SOC", email=f"soc@{slug}.example", notifications=["advisories"]
        )

    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            console_errors: list[str] = []
            page.on(
                "console",
                lambda message: (
                    console_errors.append(message.text) if message.type == "error" else None
                ),
            )

            def sign_in(username: str, then: str) -> None:
                page.context.clear_cookies()
                page.goto(f"{base}/accounts/login/?next={then}")
                page.fill("input[name=username]", username)
                page.fill("input[name=password]", PASSWORD)
                page.get_by_role("button", name="Sign in").click()
                page.wait_for_url(f"{base}{then}")

            # The analyst drafts the advisory in the form.
            sign_in("national.analyst", "/advisories/")
            page.get_by_role("link", name="New advisory").click()
            page.fill("input[name=title]", "Remote code execution in Example Core Banking")
            page.fill(
                "textarea[name=summary]",
                "A deserialisation flaw lets an unauthenticated attacker run code.",
            )
            page.select_option("select[name=severity]", "critical")
            page.select_option("select[name=exploitation]", "active")
            page.fill(
                "textarea[name=products]",
                "Example Fintech; Example Core Banking; < 7.4.2; 7.4.2",
            )
            page.fill("textarea[name=cves]", f"CVE-2026-31337; {V3}; Unsafe deserialisation")
            page.fill("textarea[name=remediation]", "Update to 7.4.2 within 48 hours.")
            page.select_option("select[name=tlp]", "AMBER")
            page.check("input[name=audience_kind][value=organizations]")
            page.select_option(
                "select[name=audience_organizations]", ["national-bank", "city-bank", "grid"]
            )
            page.get_by_role("button", name="Save draft").click()
            expect(page.get_by_role("heading", level=1)).to_have_text(
                "Remote code execution in Example Core Banking"
            )
            expect(page.get_by_text("Draft, not published")).to_be_visible()
            advisory = Advisory.objects.get()
            tracking_id = advisory.tracking_id
            detail = f"/advisories/{tracking_id}/"
            page.get_by_role("button", name="Submit for review").click()
            expect(page.get_by_text("Submitted for review.")).to_be_visible()

            # The coordinator reviews and publishes it.
            sign_in("national.coordinator", detail)
            expect(page.locator("table.advisory-cves")).to_contain_text("CVE-2026-31337")
            page.fill("input[name=change_summary]", "Initial release")
            page.get_by_role("button", name="Publish", exact=True).click()
            expect(page.get_by_text("Published as revision 1")).to_be_visible()
            page.screenshot(path=str(SCREENSHOTS / "advisory-page.png"), full_page=True)

            # The worker sends the mail: the banks and the grid, never telecom.
            assert smtp_server.messages == []
            call_command(
                "db_worker", "--batch", "--queue-name", "*", "--no-startup-delay", verbosity=0
            )
            received = smtp_server.messages
            addresses = {address for mail in received for address in mail.rcpt_tos}
            assert {"soc@national-bank.example", "soc@city-bank.example"} <= addresses
            assert "soc@grid.example" in addresses
            assert not {a for a in addresses if "telco" in a or "telecom" in a}
            to_bank = next(m for m in received if "soc@national-bank.example" in m.rcpt_tos)
            assert (
                to_bank.message["Subject"]
                .strip()
                .startswith(f"[TLP:AMBER] [{tracking_id}] Remote code execution")
            )
            assert to_bank.message.get_content_type() == "multipart/signed"

            # A bank's reporter finds it in the inbox and answers "applied".
            sign_in("national-bank.reporter", "/advisories/inbox/")
            row = page.locator("table.inbox tr", has_text=tracking_id)
            expect(row).to_contain_text("Unread")
            row.get_by_role("link").click()
            page.wait_for_url(f"{base}{detail}")
            expect(page.get_by_role("heading", name="Your answer")).to_be_visible()
            page.get_by_role("button", name="Applied the remediation").click()
            expect(
                page.get_by_text("National-Bank answered “Applied the remediation”").first
            ).to_be_visible()
            assert Acknowledgement.objects.get().state == "applied"

            # A telecom reporter sees nothing of it.
            sign_in("telco.reporter", "/advisories/inbox/")
            expect(page.locator("table.inbox")).not_to_contain_text(tracking_id)
            response = page.goto(f"{base}{detail}")
            assert response is not None
            assert response.status == 404

            # The coordinator follows the answers.
            sign_in("national.coordinator", detail)
            page.get_by_role("link", name="Acknowledgements").click()
            expect(page.locator(".ack-total")).to_contain_text("1 of 3 acknowledged")
            expect(page.locator("table.ack-organizations")).to_contain_text(
                "Applied the remediation"
            )
            expect(page.locator("table.ack-sectors")).to_contain_text("1 of 2")
            page.screenshot(path=str(SCREENSHOTS / "advisory-acks.png"), full_page=True)

            csp = [text for text in console_errors if "Content Security Policy" in text]
            assert csp == []
        finally:
            browser.close()
            # The ORM calls above ran inside Playwright's sync API, whose context holds a
            # database connection of its own: close it, or PostgreSQL keeps the test
            # database busy at teardown.
            connections.close_all()
