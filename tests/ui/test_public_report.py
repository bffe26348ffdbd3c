"""A citizen's report in a real browser, without an account: the public form gives a
tracking code once, the report reaches national intake, and after an analyst triages it
the status page (asked with the code) shows the progress."""

from __future__ import annotations

from typing import Any

import pytest

from certhub.incidents import selectors, services
from certhub.incidents.choices import Channel, Status
from tests.conftest import launch_chromium
from tests.factories import World

pytestmark = pytest.mark.browser


def test_citizen_reports_a_scam_and_follows_it_with_the_tracking_code(
    live_server: Any, transactional_db: Any, world: World, settings: Any
) -> None:
    from playwright.sync_api import expect, sync_playwright

    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    base = live_server.url

    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            context = browser.new_context(viewport={"width": 1100, "height": 900})
            # No JavaScript at all: the public pages must work without it.
            plain = browser.new_context(java_script_enabled=False)
            page = context.new_page()
            errors: list[str] = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

            page.goto(f"{base}/report/")
            expect(page.get_by_role("heading", level=1)).to_have_text("Report a cyber incident")
            # The honeypot is out of sight for people.
            expect(page.locator("input[name=website]")).not_to_be_in_viewport()
            page.get_by_label("In one line, what happened?").fill("Parcel scam SMS")
            page.get_by_label("Tell us more").fill(
                "An SMS said my parcel is held and linked to a page asking for my card."
            )
            page.get_by_label("Suspicious addresses, links or senders").fill(
                "hxxps://parcel-fee[.]example/pay"
            )
            page.get_by_label("Your e-mail address").fill("citizen@example.net")
            page.screenshot(path="/tmp/public-report-form.png", full_page=True)
            page.get_by_role("button", name="Send the report").click()
            expect(page.get_by_role("heading", level=1)).to_contain_text("received")
            code = page.locator("#tracking-code").inner_text().strip()
            assert len(code) >= 20

            # It reached national intake, where the National CERT's analysts see it.
            analyst = world.users["national.analyst"]
            (incident,) = selectors.incidents_matching(analyst, q="Parcel scam")
            assert incident.channel == Channel.PUBLIC
            assert incident.handling_team == world.teams["national"]
            assert {o.value for o in incident.observables.all()} == {
                "https://parcel-fee.example/pay"
            }
            assert not selectors.incidents_matching(world.users["banking.analyst"], q="Parcel")

            # The status page, asked with the code, without JavaScript.
            status_page = plain.new_page()
            status_page.goto(f"{base}/report/status/")
            status_page.get_by_label("Tracking code").fill(code)
            status_page.get_by_role("button", name="Check status").click()
            expect(status_page.get_by_role("status")).to_contain_text("New")
            expect(status_page.get_by_role("status")).to_contain_text("waits for an analyst")

            services.update_incident(
                actor=analyst, incident=incident, changes={"status": Status.TRIAGED}
            )
            status_page.goto(f"{base}/report/status/")
            status_page.get_by_label("Tracking code").fill(code)
            status_page.get_by_role("button", name="Check status").click()
            expect(status_page.get_by_role("status")).to_contain_text("Triaged")
            expect(status_page.get_by_role("status")).to_contain_text("An analyst has read")
            assert code not in status_page.url  # the code is posted, never in a URL

            # A wrong code says so, and reveals nothing.
            status_page.get_by_label("Tracking code").fill("not-a-real-code-but-long-enough")
            status_page.get_by_role("button", name="Check status").click()
            expect(status_page.get_by_role("alert")).to_have_text(
                "No report has this tracking code."
            )
            assert [t for t in errors if "Content Security Policy" in t] == []
        finally:
            browser.close()
