"""The directory in a real browser: a banking analyst signs in through the login form,
finds its organizations (and not the telecom sector's), filters the table, opens an
organization, and gets the 404 page for another branch's organization."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import launch_chromium
from tests.factories import PASSWORD, World

pytestmark = pytest.mark.browser

SCREENSHOT = "/tmp/directory.png"


def test_banking_analyst_browses_the_directory(
    live_server: Any, transactional_db: Any, world: World, settings: Any
) -> None:
    from playwright.sync_api import expect, sync_playwright

    settings.CERTHUB_REQUIRE_MFA = False
    # The test server speaks plain HTTP.
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    base = live_server.url

    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            console_errors: list[str] = []
            page.on(
                "console",
                lambda message: (
                    console_errors.append(message.text) if message.type == "error" else None
                ),
            )

            # The directory needs a sign-in: the real form, then back to the directory.
            page.goto(f"{base}/directory/")
            page.fill("input[name=username]", "banking.analyst")
            page.fill("input[name=password]", PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_url(f"{base}/directory/")

            table = page.locator("table.organizations")
            expect(table.get_by_role("link", name="National-Bank")).to_be_visible()
            expect(table.get_by_role("link", name="City-Bank")).to_be_visible()
            expect(table.get_by_role("link", name="Telco")).to_have_count(0)
            expect(page.get_by_text("CII grade 1")).to_be_visible()
            tree = page.locator("ul.tree")
            expect(tree.get_by_role("link", name="Banking")).to_be_visible()
            expect(tree.get_by_role("link", name="Telecom")).to_have_count(0)
            page.screenshot(path=SCREENSHOT, full_page=True)

            # Typing in the search narrows the table in place (htmx) and into the URL.
            page.fill("input[name=q]", "city")
            page.wait_for_url("**/directory/?*q=city*")
            expect(table.get_by_role("link", name="National-Bank")).to_have_count(0)
            expect(table.get_by_role("link", name="City-Bank")).to_be_visible()
            page.goto(f"{base}/directory/")

            # An organization's page lists its network assets.
            page.locator("table.organizations").get_by_role("link", name="National-Bank").click()
            page.wait_for_url(f"{base}/directory/organizations/national-bank/")
            expect(page.get_by_role("heading", level=1)).to_contain_text("National-Bank")
            expect(page.locator("table.assets")).to_contain_text("192.0.2.0/24")

            # Another branch's organization is simply not there.
            response = page.goto(f"{base}/directory/organizations/telco/")
            assert response is not None
            assert response.status == 404
            expect(page.get_by_role("heading", level=1)).to_have_text("Not found")
            assert "198.51.100.0/24" not in page.content()

            csp = [text for text in console_errors if "Content Security Policy" in text]
            assert csp == []
        finally:
            browser.close()
