"""The correlation panel and the indicator search in a real browser: the National CERT
analyst opens the bank's incident and sees the ministry's incident and the feed events
with the same C2 address; the banking analyst sees the count but no link to the
ministry's incident, shares the incident's indicators to its TAXII collection and finds
the collection from the navigation; the bank's reporter sees no correlation at all; the national
analyst pastes a defanged list into the indicator search (htmx) and follows a value to
its timeline."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from certhub.feeds import services as feeds
from tests.conftest import launch_chromium
from tests.factories import World, make_incident
from tests.intel.test_correlation_story import C2, sinkhole_file
from tests.ui.test_incident_story import sign_in

pytestmark = pytest.mark.browser


def run_worker() -> None:
    call_command("db_worker", "--batch", "--queue-name", "*", "--no-startup-delay", verbosity=0)


def test_the_correlation_panel_and_the_indicator_search(
    live_server: Any, transactional_db: Any, world: World, settings: Any, tmp_path: Path
) -> None:
    from playwright.sync_api import expect, sync_playwright

    settings.CERTHUB_REQUIRE_MFA = False
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    settings.MEDIA_ROOT = tmp_path / "media"
    bank = make_incident(
        world.users["national-bank.reporter"], "Branch PCs beaconing", observables_text=C2
    )
    ministry = make_incident(
        world.users["ministry.reporter"],
        "Laptop calling home",
        observables_text=f"hxxp://{C2}/gate.php and {C2}",
    )
    feeds.ingest_file(path=sinkhole_file(tmp_path, [("198.51.100.23", C2)]))
    run_worker()
    base = live_server.url

    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        pages: list[Any] = []
        try:
            national = sign_in(browser, base, "national.analyst", f"/incidents/{bank.reference}/")
            pages.append(national)
            panel = national.locator("#correlations")
            row = panel.locator(f'tr[data-value="{C2}"]')
            expect(row).to_contain_text(
                "seen in 1 incident of 1 organizations in 1 sectors, and in 1 feed events"
            )
            expect(row.get_by_role("link", name=ministry.reference)).to_be_visible()
            # An indicator added on the page correlates at once (the panel follows, htmx).
            observables = national.locator("#observables")
            observables.locator("summary", has_text="Add indicators").click()
            observables.locator("textarea[name=obs-text]").fill(f"hxxp://{C2}/panel.php")
            observables.get_by_role("button", name="Add indicators").click()
            new_row = national.locator("#correlations tr", has_text=f"http://{C2}/panel.php")
            expect(new_row).to_contain_text("seen in 1 incident of 1 organizations")
            expect(new_row).to_contain_text("URL host")
            expect(new_row.get_by_role("link", name=ministry.reference)).to_be_visible()

            banking = sign_in(browser, base, "banking.analyst", f"/incidents/{bank.reference}/")
            pages.append(banking)
            row = banking.locator(f'#correlations tr[data-value="{C2}"]')
            expect(row).to_contain_text("seen in 1 incident of 1 organizations")
            expect(row).to_contain_text("1 incident you may not open.")
            expect(banking.locator("main")).not_to_contain_text(ministry.reference)
            # The banking analyst shares the incident's indicators to its TAXII
            # collection, then finds the collection from the main navigation.
            actions = banking.locator("#exchange-actions")
            actions.locator("summary", has_text="Share and export").click()
            actions.get_by_label("Share the indicators to a TAXII collection").select_option(
                "team:banking"
            )
            actions.get_by_role("button", name="Share to collection").click()
            expect(banking.get_by_role("status")).to_contain_text("STIX objects added.")
            banking.get_by_role("navigation", name="Main").get_by_role(
                "link", name="Collections"
            ).click()
            expect(banking.locator("main")).to_contain_text("Banking indicators")

            reporter = sign_in(
                browser, base, "national-bank.reporter", f"/incidents/{bank.reference}/"
            )
            pages.append(reporter)
            expect(reporter.locator("#observables")).to_contain_text(C2)
            expect(reporter.locator("#correlations")).to_have_count(0)
            expect(reporter.locator("main")).not_to_contain_text(ministry.reference)

            # The indicator search: a defanged list, answered in place by htmx.
            national.goto(f"{base}/intel/")
            national.fill("textarea[name=q]", f"{C2.replace('.', '[.]')}\nnothing-here[.]example")
            national.get_by_role("button", name="Search").click()
            results = national.locator("#results")
            expect(results).to_contain_text("2 indicators found in your text.")
            found = results.locator("tr", has_text=C2)
            expect(found).to_contain_text("seen in 2 incidents of 2 organizations")
            expect(found.get_by_role("link", name=ministry.reference)).to_be_visible()
            expect(found.get_by_role("link", name=bank.reference)).to_be_visible()
            expect(found).to_contain_text("Telco")
            found.get_by_role("link", name=C2).click()
            national.wait_for_url(f"{base}/intel/value/**")
            expect(national.get_by_role("heading", level=1)).to_have_text(C2)
            timeline = national.locator(".timeline")
            expect(timeline).to_contain_text(bank.reference)
            expect(timeline).to_contain_text(ministry.reference)
            expect(timeline).to_contain_text("1 feed event of Telco")
            for page in pages:
                assert page.csp_errors == [], page.csp_errors
        finally:
            browser.close()
