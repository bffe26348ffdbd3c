"""The CII registry in a real browser: the National CERT's coordinator records the
ministry's designation of the telco from the grading criteria, then regrades it by hand
with a reason; both changes appear in the grade history; the telco's own officer reads
its record without any form, and the Punjab CERT's analyst gets the 404 page."""

from __future__ import annotations

from typing import Any

import pytest

from certhub.tenancy.models import CIIGradeChange, Organization
from certhub.tenancy.services import install_default_cii_criteria
from tests.conftest import launch_chromium
from tests.factories import World
from tests.ui.browser import csp_errors, sign_in

pytestmark = pytest.mark.browser


def test_a_designation_and_a_regrade_in_the_cii_registry(
    live_server: Any, transactional_db: Any, world: World, settings: Any
) -> None:
    from playwright.sync_api import expect, sync_playwright

    settings.CERTHUB_REQUIRE_MFA = False
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    install_default_cii_criteria(actor=None)
    base = live_server.url
    pages: list[Any] = []

    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            coordinator = sign_in(browser, base, "national.coordinator", "/directory/cii/telco/")
            pages.append(coordinator)
            form = coordinator.locator("#cii-designate")
            form.get_by_label("Designating authority").fill("Ministry of IT and Telecom")
            form.get_by_label("Decision reference").fill("MoITT/CII/2026/7")
            for name, level in (
                ("population", "national"),
                ("substitutability", "hard"),
                ("dependency", "many"),
                ("state_functions", "some"),
                ("economic_impact", "high"),
            ):
                form.locator(f"select[name=criterion_{name}]").select_option(level)
            form.get_by_role("button", name="Designate as CII").click()
            expect(coordinator.locator(".messages")).to_contain_text("up to date")
            expect(coordinator.get_by_role("heading", level=1)).to_contain_text("CII grade 1")
            history = coordinator.locator("table.cii-history")
            expect(history).to_contain_text("score 80")
            regrade = coordinator.locator("#cii-regrade")
            regrade.locator("select[name=grade]").select_option("2")
            regrade.get_by_label("Reason").fill("The ministry's letter of 28 November.")
            regrade.get_by_role("button", name="Regrade").click()
            expect(coordinator.get_by_role("heading", level=1)).to_contain_text("CII grade 2")
            expect(history).to_contain_text("The ministry's letter of 28 November.")
            coordinator.screenshot(path="/tmp/cii-record.png", full_page=True)
            telco = Organization.objects.get(slug="telco")
            assert telco.cii_grade == "2"
            assert CIIGradeChange.objects.filter(organization=telco).count() == 2

            officer = sign_in(browser, base, "telco.org_admin", "/directory/cii/telco/")
            pages.append(officer)
            expect(officer.locator("table.cii-history")).to_contain_text("Set with a reason")
            expect(officer.locator("form#cii-regrade")).to_have_count(0)

            outsider = sign_in(browser, base, "punjab.analyst", "/directory/")
            pages.append(outsider)
            response = outsider.goto(f"{base}/directory/cii/telco/")
            assert response is not None
            assert response.status == 404

            for page in pages:
                csp = csp_errors(page)
                assert csp == [], (page.url, csp)
        finally:
            browser.close()
