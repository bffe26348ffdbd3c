"""Issue 3's story in a real browser, one browser context per person, each signing in
through the login form: the National Bank's reporter reports an incident with a file and
pasted (defanged) indicators; the Banking CERT analyst triages it, writes an internal and
a shared note, scores it High with the severity form, and it escalates to the National
CERT by rule; the National CERT coordinator brings in the Telecom CERT, whose analyst
then sees it; the Punjab CERT analyst gets the 404 page; the reporter reads the shared
note but not the internal one. Every step is on the timeline, the audit chain verifies,
and the notifications reach a real SMTP server with the TLP label and the reference."""

from __future__ import annotations

import re
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from certhub.incidents.models import Incident
from tests.conftest import launch_chromium
from tests.factories import HIGH_SEVERITY, TINY_PNG, World
from tests.ui.browser import csp_errors, sign_in

pytestmark = pytest.mark.browser

HIGH = HIGH_SEVERITY
PNG = TINY_PNG


def run_worker() -> None:
    call_command("db_worker", "--batch", "--queue-name", "*", "--no-startup-delay", verbosity=0)


def test_a_bank_incident_from_the_report_form_to_national_coordination(
    live_server: Any,
    transactional_db: Any,
    world: World,
    settings: Any,
    smtp_server: Any,
    tmp_path: Path,
) -> None:
    from playwright.sync_api import expect, sync_playwright

    settings.CERTHUB_REQUIRE_MFA = False
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.CERTHUB_REFERENCE_PREFIX = "CERT"
    base = live_server.url
    evidence = tmp_path / "firewall.png"
    evidence.write_bytes(PNG)
    pages: list[Any] = []

    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            # 1. The bank's reporter fills in the guided form.
            reporter = sign_in(browser, base, "national-bank.reporter", "/incidents/report/")
            pages.append(reporter)
            reporter.fill("input[name=title]", "Ransomware on the branch file server")
            reporter.get_by_label("A computer is infected").check()
            reporter.fill(
                "textarea[name=description]", "Files on the branch server were encrypted at 09:10."
            )
            reporter.fill("textarea[name=impact]", "Branch counters work on paper.")
            reporter.fill("input[name=affected_systems]", "4")
            reporter.fill(
                "textarea[name=observables]", "C2 at hxxp://evil[.]example/x and 198.51.100[.]23"
            )
            preview = reporter.locator("#observables-preview")
            expect(preview).to_contain_text("2 indicators recognised")
            expect(preview).to_contain_text("http://evil.example/x")
            expect(preview).to_contain_text("198.51.100.23")
            reporter.set_input_files("input[name=attachments]", str(evidence))
            reporter.screenshot(path="/tmp/incident-report-form.png", full_page=True)
            reporter.get_by_role("button", name="Send the report").click()
            reporter.wait_for_url(re.compile(r".*/incidents/CERT-\d{4}-\d{6}/received/$"))
            reference = reporter.locator(".reference-big").inner_text().strip()
            expect(reporter.get_by_role("heading", level=1)).to_contain_text("received")
            expect(reporter.locator("main")).to_contain_text("firewall.png")
            incident = Incident.objects.get(reference=reference)
            assert incident.handling_team.slug == "banking"
            url = f"{base}/incidents/{reference}/"

            # 2. The Banking CERT analyst finds it in the queue and triages it.
            analyst = sign_in(browser, base, "banking.analyst", "/incidents/")
            pages.append(analyst)
            row = analyst.locator("table.queue tr", has_text=reference)
            expect(row).to_contain_text("Ransomware on the branch file server")
            expect(row.locator(".tlp")).to_have_text("TLP:AMBER")
            analyst.screenshot(path="/tmp/incident-queue.png", full_page=True)
            # Search by an indicator (htmx narrows the table in place).
            analyst.fill("input[name=q]", "198.51.100.23")
            analyst.wait_for_url("**/incidents/?*q=198.51.100.23*")
            expect(analyst.locator("table.queue")).to_contain_text(reference)
            row.get_by_role("link", name=reference).click()
            analyst.wait_for_url(url)
            expect(analyst.locator("#observables")).to_contain_text("198.51.100.23")

            notes = analyst.locator("#notes")
            analyst.fill("textarea[name=note-body]", "Internal: the C2 matches last month's case.")
            notes.get_by_label("Internal (CERT staff only)").check()
            notes.get_by_role("button", name="Add note").click()
            expect(analyst.locator("#notes")).to_contain_text("matches last month")
            analyst.fill("textarea[name=note-body]", "Please keep the server powered on.")
            analyst.locator("#notes").get_by_label("Shared with the reporter").check()
            analyst.locator("#notes").get_by_role("button", name="Add note").click()
            expect(analyst.locator("#notes")).to_contain_text("keep the server powered on")
            # The timeline was refreshed out of band with the note.
            expect(analyst.locator("#timeline")).to_contain_text("Note added")

            for factor, answer in HIGH.items():
                analyst.select_option(f"select[name=sev-{factor}]", answer)
            analyst.get_by_role("button", name="Assess severity").click()
            expect(analyst.locator(".incident-head .priority")).to_have_text("High (Orange)")
            expect(analyst.locator("#facts")).to_contain_text("National")
            expect(analyst.locator("#timeline")).to_contain_text("Escalated")
            analyst.screenshot(path="/tmp/incident-page.png", full_page=True)

            # 3. The National CERT coordinator brings in the Telecom CERT.
            coordinator = sign_in(browser, base, "national.coordinator", f"/incidents/{reference}/")
            pages.append(coordinator)
            coordinator.select_option("select[name=part-team]", "telecom")
            coordinator.fill("input[name=part-reason]", "The C2 host sits in a telco network.")
            coordinator.get_by_role("button", name="Add team").click()
            expect(coordinator.locator("#facts")).to_contain_text("Telecom")
            expect(coordinator.locator("#timeline")).to_contain_text("Team brought in")

            # 4. The Telecom CERT analyst now sees it.
            telecom = sign_in(browser, base, "telecom.analyst", "/incidents/")
            pages.append(telecom)
            expect(telecom.locator("table.queue")).to_contain_text(reference)
            telecom.goto(url)
            expect(telecom.locator("#observables")).to_contain_text("evil.example")

            # 5. The Punjab CERT analyst gets the 404 page.
            punjab = sign_in(browser, base, "punjab.analyst", "/incidents/")
            pages.append(punjab)
            response = punjab.goto(url)
            assert response is not None
            assert response.status == 404
            expect(punjab.get_by_role("heading", level=1)).to_have_text("Not found")
            assert "Ransomware" not in punjab.content()

            # 6. The reporter reads the shared note, not the internal one, and replies.
            reporter.goto(url)
            expect(reporter.locator("#notes")).to_contain_text("keep the server powered on")
            expect(reporter.locator("#notes")).not_to_contain_text("last month")
            expect(reporter.locator("#tasks")).to_have_count(0)
            reporter.fill("textarea[name=note-body]", "Done: it stays on.")
            reporter.get_by_role("button", name="Send reply").click()
            expect(reporter.locator("#notes")).to_contain_text("Done: it stays on.")
            reporter.screenshot(path="/tmp/incident-reporter-view.png", full_page=True)

            # 7. Every step is on the timeline.
            coordinator.reload()
            timeline = coordinator.locator("#timeline")
            coordinator.screenshot(path="/tmp/incident-coordinator.png", full_page=True)
            for step in (
                "Reported",
                "Indicators added",
                "File attached",
                "Note added",
                "Updated",
                "Escalated",
                "Team brought in",
            ):
                expect(timeline).to_contain_text(step)

            for page in pages:
                csp = csp_errors(page)
                assert csp == [], (page.url, csp)
        finally:
            browser.close()

    actions = list(incident.timeline.values_list("action", flat=True))
    for action in ("reported", "observables_added", "attachment_added", "note_added"):
        assert action in actions
    for action in ("updated", "escalated", "participant_added"):
        assert action in actions
    out = StringIO()
    call_command("audit", "verify", stdout=out)

    run_worker()
    subjects = [m.message["Subject"] for m in smtp_server.messages]
    assert subjects, "no notification was delivered"
    assert all(s.startswith("[TLP:AMBER] ") for s in subjects), subjects
    assert all(f"[{reference}]" in s for s in subjects), subjects
    recipients = {r for m in smtp_server.messages for r in m.rcpt_tos}
    assert "national-bank.reporter@example.org" in recipients  # receipt and shared note
    assert "national.coordinator@example.org" in recipients  # the escalation
    assert "telecom.analyst@example.org" in recipients  # brought in
