"""Two-factor sign-in in a real browser: a CERT analyst whose role requires a second factor
signs in, is sent to enrol, adds the key to its "phone" (pyotp), keeps its recovery codes,
signs out, and signs in again with password and code, landing on the directory."""

from __future__ import annotations

import os
import re
from typing import Any

import pyotp
import pytest

from tests.accounts.conftest import next_code
from tests.conftest import launch_chromium
from tests.factories import PASSWORD, World

pytestmark = pytest.mark.browser

SCREENSHOTS = os.environ.get("CERTHUB_SCREENSHOTS", "/tmp")


def test_cert_analyst_enrols_and_signs_in_with_a_code(
    live_server: Any, transactional_db: Any, world: World, settings: Any
) -> None:
    from playwright.sync_api import expect, sync_playwright

    settings.CERTHUB_REQUIRE_MFA = True
    # The test server speaks plain HTTP.
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    base = live_server.url
    analyst = world.users["banking.analyst"]

    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            problems: list[str] = []
            page.on(
                "console",
                lambda message: problems.append(message.text) if message.type == "error" else None,
            )

            # Password only: the role requires a second factor, so enrolment comes first.
            page.goto(f"{base}/accounts/login/")
            page.fill("input[name=username]", "banking.analyst")
            page.fill("input[name=password]", PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_url(f"{base}/accounts/mfa/setup/")
            expect(page.locator(".qr svg")).to_be_visible()
            # Trying to go elsewhere leads back to the enrolment.
            page.goto(f"{base}/directory/")
            page.wait_for_url(f"{base}/accounts/mfa/setup/")
            page.screenshot(path=f"{SCREENSHOTS}/mfa-setup.png", full_page=True)

            # The "phone" reads the key shown in text.
            secret = page.locator("#mfa-secret").inner_text().replace(" ", "")
            phone = pyotp.TOTP(secret)
            page.fill("input[name=code]", phone.now())
            page.get_by_role("button", name="Turn on two-factor authentication").click()
            codes = page.locator(".recovery-codes li")
            expect(codes).to_have_count(10)
            recovery = codes.all_inner_texts()
            assert all(re.fullmatch(r"[a-z]{4}-[a-z]{4}-[a-z]{4}", code) for code in recovery)
            page.screenshot(path=f"{SCREENSHOTS}/recovery-codes.png", full_page=True)

            page.get_by_role("link", name="I have saved them: continue").click()
            page.wait_for_url(f"{base}/accounts/")
            page.get_by_role("button", name="Sign out").click()
            page.wait_for_url(f"{base}/accounts/login/")

            # Password, then the code of the phone (not the one already used to enrol).
            page.fill("input[name=username]", "banking.analyst")
            page.fill("input[name=password]", PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_url(f"{base}/accounts/login/verify/")
            page.fill("input[name=code]", next_code(secret))
            page.get_by_role("button", name="Verify").click()
            page.wait_for_url(f"{base}/directory/")
            expect(page.locator(".account-menu")).to_contain_text("banking.analyst")
            assert problems == [], problems
        finally:
            browser.close()

    # Checked outside Playwright's loop: an ORM call inside it opens a connection of its
    # own that outlives the test (PostgreSQL then refuses to drop the test database).
    analyst.refresh_from_db()
    assert analyst.mfa_enabled
    assert analyst.recovery_codes.filter(used_at__isnull=True).count() == 10
