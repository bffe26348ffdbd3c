"""The Council's story in a real browser: the Council's secretary enters a
recommendation on notifying provincial CERTs through the form; an ordinary Council
member finds it in the register (and the link to the national statistics) but gets the
404 page on an incident's URL; the Punjab CERT's coordinator, to whom it is addressed,
records its follow-up; the National Bank's reporter gets 404 on the register."""

from __future__ import annotations

from typing import Any

import pytest

from certhub.awareness.council_models import Recommendation
from tests.awareness.council_fixtures import seat_council
from tests.conftest import launch_chromium
from tests.factories import World, make_incident
from tests.ui.browser import csp_errors, sign_in

pytestmark = pytest.mark.browser


def test_the_council_keeps_its_register_and_never_sees_an_incident(
    live_server: Any, transactional_db: Any, world: World, settings: Any
) -> None:
    from playwright.sync_api import expect, sync_playwright

    settings.CERTHUB_REQUIRE_MFA = False
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    seat_council(world)
    incident = make_incident(world.users["national-bank.reporter"], "Ransomware at a branch")
    base = live_server.url
    pages: list[Any] = []

    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            # 1. The secretary enters a recommendation addressed to the Punjab CERT.
            secretary = sign_in(browser, base, "council.secretary", "/council/recommendations/")
            pages.append(secretary)
            secretary.get_by_role("link", name="New recommendation").click()
            secretary.fill("input[name=title]", "Copy provincial CERTs on ransomware alerts")
            secretary.fill("textarea[name=text]", "Within 24 hours of every national alert.")
            secretary.fill("input[name=owner]", "National CERT")
            secretary.select_option("select[name=kind]", "cert_notification")
            secretary.get_by_label("Punjab (Provincial CERT)").check()
            secretary.fill("input[name=due_date]", "2030-01-31")
            secretary.get_by_role("button", name="Save").click()
            expect(secretary.get_by_role("heading", level=1)).to_contain_text(
                "Copy provincial CERTs on ransomware alerts"
            )
            rec = Recommendation.objects.get()
            assert rec.addressed_teams.get().slug == "punjab"
            secretary.screenshot(path="/tmp/council-recommendation.png", full_page=True)

            # 2. A Council member reads the register, and finds the statistics link.
            member = sign_in(browser, base, "council.member", "/council/")
            pages.append(member)
            expect(
                member.get_by_role("link", name="National statistics and reports")
            ).to_have_attribute("href", "/awareness/")
            expect(member.get_by_role("navigation", name="Main")).to_contain_text("Council")
            expect(member.get_by_role("navigation", name="Main")).not_to_contain_text("Incidents")
            member.get_by_role("link", name="Recommendations", exact=True).click()
            row = member.locator("table.recommendations tr", has_text=rec.reference)
            expect(row).to_contain_text("Copy provincial CERTs on ransomware alerts")
            expect(member.get_by_role("link", name="New recommendation")).to_have_count(0)
            member.screenshot(path="/tmp/council-register.png", full_page=True)
            # ... and never an incident.
            response = member.goto(f"{base}/incidents/{incident.reference}/")
            assert response is not None
            assert response.status == 404
            expect(member.locator("main")).not_to_contain_text("Ransomware at a branch")

            # 3. The Punjab CERT's coordinator records follow-up.
            punjab = sign_in(browser, base, "punjab.coordinator", "/council/recommendations/")
            pages.append(punjab)
            punjab.get_by_role("link", name=rec.reference).click()
            punjab.fill("textarea[name=text]", "Our duty desk now receives every alert.")
            punjab.select_option("select[name=status]", "implemented")
            punjab.get_by_role("button", name="Record follow-up").click()
            expect(punjab.locator("ol.follow-ups")).to_contain_text("Our duty desk")
            rec.refresh_from_db()
            assert rec.status == "implemented"

            # 4. An organization's reporter gets the 404 page.
            reporter = sign_in(browser, base, "national-bank.reporter", "/incidents/")
            pages.append(reporter)
            response = reporter.goto(f"{base}/council/recommendations/")
            assert response is not None
            assert response.status == 404

            for page in pages:
                csp = csp_errors(page)
                assert csp == [], (page.url, csp)
        finally:
            browser.close()
