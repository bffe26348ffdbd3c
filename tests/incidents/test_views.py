"""The incident pages through the Django test client: the team queue (filters, search,
bulk changes, saved views), the incident page and its forms (with and without htmx),
the reporter's own view, the guided report form, and the citizens' public form."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from certhub.audit.models import AuditEntry
from certhub.incidents import selectors, services
from certhub.incidents.choices import NoteVisibility, Priority, Status
from certhub.incidents.models import CustodyEntry, Deadline, Incident, SavedView
from tests.factories import HIGH_SEVERITY, TINY_PNG, World, make_incident

pytestmark = pytest.mark.django_db

HIGH = HIGH_SEVERITY
PNG = TINY_PNG


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def bank_incident(world: World, **fields: Any) -> Incident:
    fields.setdefault("observables_text", "C2 at hxxp://evil[.]example/x and 198.51.100[.]23")
    return make_incident(world.users["national-bank.reporter"], "Ransomware at HQ", **fields)


def html(response: Any) -> str:
    return response.content.decode()


# --- The queue -------------------------------------------------------------------------


def test_banking_analyst_queue_lists_its_incidents_not_telecoms(world: World) -> None:
    bank = bank_incident(world)
    telco = make_incident(world.users["telco.reporter"], "Telco outage")
    response = client_for(world.users["banking.analyst"]).get("/incidents/")
    assert response.status_code == 200
    page = html(response)
    assert bank.reference in page
    assert telco.reference not in page
    assert 'name="bulk-references"' in page  # analysts get the bulk form


def test_queue_filters_by_status_priority_and_category(world: World) -> None:
    phishing = bank_incident(world, category="fraud", type="phishing")
    other = make_incident(world.users["national-bank.reporter"], "Scan", category="")
    analyst = world.users["banking.analyst"]
    services.update_incident(actor=analyst, incident=other, changes={"status": Status.TRIAGED})
    client = client_for(analyst)

    page = html(client.get("/incidents/", {"status": "triaged"}))
    assert other.reference in page
    assert phishing.reference not in page
    page = html(client.get("/incidents/", {"category": "fraud"}))
    assert phishing.reference in page
    assert other.reference not in page
    page = html(client.get("/incidents/", {"priority": str(Priority.BASELINE)}))
    assert phishing.reference in page
    assert other.reference in page
    # A filter value that makes no sense is ignored and said so, never a 500.
    response = client.get("/incidents/", {"priority": "9", "status": "exploded"})
    assert response.status_code == 200
    assert "were not understood" in html(response)


def test_queue_search_finds_an_incident_by_a_pasted_indicator(world: World) -> None:
    found = bank_incident(world)
    missed = make_incident(world.users["national-bank.reporter"], "Lost laptop")
    page = html(client_for(world.users["banking.analyst"]).get("/incidents/", {"q": "evil.exam"}))
    assert found.reference in page
    assert missed.reference not in page


def test_overdue_incidents_are_highlighted_and_filtered(world: World) -> None:
    late = bank_incident(world)
    on_time = make_incident(world.users["national-bank.reporter"], "Fine")
    Deadline.objects.filter(incident=late, met_at__isnull=True).update(
        due_at=timezone.now() - dt.timedelta(hours=2)
    )
    client = client_for(world.users["banking.analyst"])
    page = html(client.get("/incidents/"))
    assert 'class="overdue"' in page
    page = html(client.get("/incidents/", {"overdue": "on"}))
    assert late.reference in page
    assert on_time.reference not in page


def test_queue_answers_htmx_with_the_results_only(world: World) -> None:
    bank_incident(world)
    response = client_for(world.users["banking.analyst"]).get(
        "/incidents/", {"q": "Ransomware"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    assert "<html" not in html(response)
    assert "Ransomware at HQ" in html(response)


def test_analyst_bulk_assigns_and_triages_each_through_the_service(world: World) -> None:
    first, second = bank_incident(world), make_incident(world.users["national-bank.reporter"], "B")
    client = client_for(world.users["banking.analyst"])
    response = client.post(
        "/incidents/bulk/",
        {
            "bulk-references": [first.reference, second.reference],
            "bulk-action": "assign",
            "bulk-assignee": "banking.coordinator",
            "bulk-next": "status=new",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == "/incidents/?status=new"
    for incident in (first, second):
        incident.refresh_from_db()
        assert incident.assignee == world.users["banking.coordinator"]
        assert incident.timeline.filter(action="assigned").exists()
    response = client.post(
        "/incidents/bulk/",
        {"bulk-references": [first.reference], "bulk-action": "status", "bulk-status": "triaged"},
    )
    assert response.status_code == 302
    first.refresh_from_db()
    assert first.status == Status.TRIAGED
    assert AuditEntry.objects.filter(action="incident.status_changed").count() == 1


def test_banking_viewer_cannot_bulk_assign_and_nothing_changes(world: World) -> None:
    incident = bank_incident(world)
    client = client_for(world.users["banking.viewer"])
    assert 'name="bulk-references"' not in html(client.get("/incidents/"))
    response = client.post(
        "/incidents/bulk/",
        {
            "bulk-references": [incident.reference],
            "bulk-action": "assign",
            "bulk-assignee": "banking.analyst",
        },
    )
    assert response.status_code == 403
    assert "Your role does not allow this" in html(response)
    incident.refresh_from_db()
    assert incident.assignee is None
    assert not incident.timeline.filter(action="assigned").exists()


def test_bulk_change_is_all_or_nothing(world: World) -> None:
    visible = bank_incident(world)
    hidden = make_incident(world.users["telco.reporter"], "Not banking's")
    response = client_for(world.users["banking.analyst"]).post(
        "/incidents/bulk/",
        {
            "bulk-references": [visible.reference, hidden.reference],
            "bulk-action": "status",
            "bulk-status": "triaged",
        },
    )
    assert response.status_code == 404
    assert f"{hidden.reference}: No such incident." in html(response)
    visible.refresh_from_db()
    assert visible.status == Status.NEW


def test_analyst_saves_lists_and_deletes_a_view(world: World) -> None:
    analyst = world.users["banking.analyst"]
    client = client_for(analyst)
    response = client.post(
        "/incidents/views/",
        {"save-name": "Overdue phishing", "save-query": "category=fraud&overdue=on&bogus=1"},
    )
    assert response.status_code == 302
    view = SavedView.objects.get(user=analyst)
    # Only the filters the queue understands are kept.
    assert view.query == "category=fraud&overdue=on"
    page = html(client.get("/incidents/"))
    assert "Overdue phishing" in page
    assert "?category=fraud&amp;overdue=on" in page
    # Someone else's saved view cannot be deleted (not found).
    other = client_for(world.users["telecom.analyst"])
    other.post(f"/incidents/views/{view.pk}/delete/")
    assert SavedView.objects.filter(pk=view.pk).exists()
    client.post(f"/incidents/views/{view.pk}/delete/")
    assert not SavedView.objects.filter(pk=view.pk).exists()


def test_reporter_queue_shows_its_organizations_incidents_without_bulk(world: World) -> None:
    own = bank_incident(world)
    other = make_incident(world.users["city-bank.reporter"], "City incident")
    page = html(client_for(world.users["national-bank.reporter"]).get("/incidents/"))
    assert own.reference in page
    assert other.reference not in page
    assert "bulk-references" not in page


# --- The incident page -----------------------------------------------------------------


def test_analyst_sees_every_section_and_the_handling_controls(world: World) -> None:
    incident = bank_incident(world, tlp="GREEN")
    response = client_for(world.users["banking.analyst"]).get(f"/incidents/{incident.reference}/")
    assert response.status_code == 200
    page = html(response)
    for section in ('id="facts"', 'id="notes"', 'id="tasks"', 'id="observables"'):
        assert section in page
    for section in ('id="attachments"', 'id="timeline"', 'id="handling"'):
        assert section in page
    assert "198.51.100.23" in page
    assert "http://evil.example/x" in page
    assert "TLP:GREEN" in page
    assert "priority-white" in page
    assert "Baseline (White)" in page
    assert "Save triage" in page
    assert "Assess severity" in page
    # Delegating and bringing in teams are for coordinators.
    assert "Add team" not in page


def test_coordinator_brings_in_and_removes_a_team(world: World) -> None:
    incident = bank_incident(world)
    client = client_for(world.users["national.coordinator"])
    url = f"/incidents/{incident.reference}"
    assert "Add team" in html(client.get(f"{url}/"))
    response = client.post(f"{url}/participants/", {"part-team": "telecom", "part-reason": "ISP"})
    assert response.status_code == 302
    assert incident.participations.filter(team__slug="telecom").exists()
    assert incident.reference in html(client_for(world.users["telecom.analyst"]).get("/incidents/"))
    client.post(f"{url}/participants/telecom/remove/")
    assert not incident.participations.exists()


def test_severity_form_scores_high_and_escalates_to_the_national_cert(world: World) -> None:
    incident = bank_incident(world)
    answers = {f"sev-{factor}": answer for factor, answer in HIGH.items()}
    response = client_for(world.users["banking.analyst"]).post(
        f"/incidents/{incident.reference}/severity/", answers
    )
    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.priority == Priority.HIGH
    assert incident.handling_team.slug == "national"
    page = html(client_for(world.users["banking.analyst"]).get(f"/incidents/{incident.reference}/"))
    assert "High (Orange)" in page
    assert "Escalated" in page


def test_incomplete_severity_form_is_shown_again_with_its_errors(world: World) -> None:
    incident = bank_incident(world)
    response = client_for(world.users["banking.analyst"]).post(
        f"/incidents/{incident.reference}/severity/", {"sev-actor": "criminal"}
    )
    assert response.status_code == 400
    assert "This field is required" in html(response)
    incident.refresh_from_db()
    assert incident.severity_answers == {}


def test_triage_form_moves_status_and_assigns(world: World) -> None:
    incident = bank_incident(world)
    response = client_for(world.users["banking.analyst"]).post(
        f"/incidents/{incident.reference}/triage/",
        {
            "triage-status": "triaged",
            "triage-assignee": "banking.analyst",
            "triage-rsit": "malicious-code/infected-system",
            "triage-tlp": "AMBER",
            "triage-pap": "AMBER",
        },
    )
    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.status == "triaged"
    assert incident.assignee == world.users["banking.analyst"]
    assert incident.category == "malicious-code"


def test_a_refused_transition_is_a_clear_400_message(world: World) -> None:
    incident = bank_incident(world)
    response = client_for(world.users["banking.analyst"]).post(
        f"/incidents/{incident.reference}/triage/",
        {
            "triage-status": "triaged",
            "triage-duplicate_of": "CERT-2026-999999",
            "triage-tlp": "AMBER",
            "triage-pap": "AMBER",
        },
    )
    # Triaged with a duplicate_of is fine (ignored); but a resolved->new move is refused:
    assert response.status_code == 302
    response = client_for(world.users["banking.analyst"]).post(
        f"/incidents/{incident.reference}/triage/",
        {"triage-status": "new", "triage-tlp": "AMBER", "triage-pap": "AMBER"},
    )
    assert response.status_code == 400
    assert "Select a valid choice" in html(response)


def test_viewer_who_sees_the_incident_gets_403_with_a_message(world: World) -> None:
    incident = bank_incident(world)
    client = client_for(world.users["banking.viewer"])
    page = html(client.get(f"/incidents/{incident.reference}/"))
    assert "Add note" not in page
    assert "Save triage" not in page
    response = client.post(
        f"/incidents/{incident.reference}/notes/", {"note-body": "x", "note-visibility": "internal"}
    )
    assert response.status_code == 403
    assert "Your role does not allow this on this incident." in html(response)
    assert not incident.notes.exists()


def test_punjab_analyst_gets_the_404_page_for_a_banking_incident(world: World) -> None:
    incident = bank_incident(world)
    client = client_for(world.users["punjab.analyst"])
    response = client.get(f"/incidents/{incident.reference}/")
    assert response.status_code == 404
    assert "Ransomware" not in html(response)
    response = client.post(f"/incidents/{incident.reference}/notes/", {"note-body": "hello"})
    assert response.status_code == 404
    assert client.get(f"/incidents/{incident.reference}/received/").status_code == 404
    assert not incident.notes.exists()


def test_note_with_htmx_swaps_the_notes_and_refreshes_the_timeline(world: World) -> None:
    incident = bank_incident(world)
    response = client_for(world.users["banking.analyst"]).post(
        f"/incidents/{incident.reference}/notes/",
        {"note-body": "Isolate the file server.", "note-visibility": "internal"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    page = html(response)
    assert page.lstrip().startswith('<section id="notes"')
    assert "Isolate the file server." in page
    assert (
        'id="timeline" class="detail-section" aria-labelledby="timeline-heading" hx-swap-oob'
        in (page)
    )
    assert "Note added" in page


def test_htmx_refusal_is_shown_in_the_section(world: World) -> None:
    incident = bank_incident(world)
    response = client_for(world.users["banking.viewer"]).post(
        f"/incidents/{incident.reference}/notes/",
        {"note-body": "x", "note-visibility": "internal"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200  # htmx swaps only 2xx answers
    assert 'role="alert">Your role does not allow this' in html(response)


def test_tasks_are_added_and_completed_on_the_page(world: World) -> None:
    incident = bank_incident(world)
    client = client_for(world.users["banking.analyst"])
    url = f"/incidents/{incident.reference}"
    response = client.post(
        f"{url}/tasks/",
        {"task-title": "Collect firewall logs", "task-assignee": "banking.coordinator"},
    )
    assert response.status_code == 302
    task = incident.tasks.get()
    assert task.assignee == world.users["banking.coordinator"]
    # Another branch of the tree neither adds nor completes: the incident is not there.
    stranger = client_for(world.users["punjab.analyst"])
    assert stranger.post(f"{url}/tasks/", {"task-title": "x"}).status_code == 404
    assert stranger.post(f"{url}/tasks/{task.pk}/complete/").status_code == 404
    task.refresh_from_db()
    assert task.done_at is None
    assert client.post(f"{url}/tasks/{task.pk}/complete/").status_code == 302
    task.refresh_from_db()
    assert task.done_at is not None
    assert incident.timeline.filter(action="task_completed").exists()
    again = client.post(f"{url}/tasks/{task.pk}/complete/")
    assert again.status_code == 409
    assert "already done" in html(again)
    assert client.post(f"{url}/tasks/999999/complete/").status_code == 404


def test_observables_form_extracts_defanged_indicators(world: World) -> None:
    incident = bank_incident(world, observables_text="")
    response = client_for(world.users["banking.analyst"]).post(
        f"/incidents/{incident.reference}/observables/",
        {"obs-text": "beacon to 203.0.113[.]9 and bad[.]example", "obs-internal": "on"},
    )
    assert response.status_code == 302
    assert set(incident.observables.values_list("kind", "value", "internal")) == {
        ("ipv4", "203.0.113.9", True),
        ("domain", "bad.example", True),
    }


def test_attachment_upload_and_download_keep_the_chain_of_custody(world: World) -> None:
    incident = bank_incident(world)
    client = client_for(world.users["banking.analyst"])
    url = f"/incidents/{incident.reference}"
    response = client.post(
        f"{url}/attachments/", {"att-uploads": [SimpleUploadedFile("shot.png", PNG)]}
    )
    assert response.status_code == 302
    attachment = incident.attachments.get()
    assert attachment.content_type == "image/png"
    download = client.get(f"{url}/attachments/{attachment.sha256}/")
    assert download.status_code == 200
    assert download.content == PNG
    assert download["X-Certhub-TLP"] == "AMBER"
    assert list(CustodyEntry.objects.filter(attachment=attachment).values_list("action", flat=True))
    assert CustodyEntry.objects.filter(attachment=attachment, action="downloaded").count() == 1
    page = html(client.get(f"{url}/"))
    assert "Chain of custody" in page
    assert "Downloaded" in page
    denied = client_for(world.users["punjab.analyst"]).get(
        f"{url}/attachments/{attachment.sha256}/"
    )
    assert denied.status_code == 404


# --- The reporter's view ---------------------------------------------------------------


def test_reporter_sees_shared_notes_only_and_replies(world: World) -> None:
    incident = bank_incident(world)
    analyst = world.users["banking.analyst"]
    services.add_note(actor=analyst, incident=incident, body="Internal: suspect insider")
    services.add_note(
        actor=analyst,
        incident=incident,
        body="Please keep the server powered on.",
        visibility=NoteVisibility.SHARED,
    )
    services.add_task(actor=analyst, incident=incident, title="Image the disk")
    services.add_observables(
        actor=analyst, incident=incident, text="10.9.8.7 internal lead", internal=True
    )
    services.update_incident(
        actor=analyst, incident=incident, changes={"assignee": "banking.analyst"}
    )
    client = client_for(world.users["national-bank.reporter"])
    page = html(client.get(f"/incidents/{incident.reference}/"))
    assert "Please keep the server powered on." in page
    assert "suspect insider" not in page
    assert "Image the disk" not in page
    assert 'id="tasks"' not in page
    assert "10.9.8.7" not in page
    assert "198.51.100.23" in page  # the indicators it sent itself
    assert "Save triage" not in page
    assert 'id="handling"' not in page
    assert "banking.analyst" not in page  # who works on it is CERT-internal
    response = client.post(
        f"/incidents/{incident.reference}/notes/",
        {"note-body": "Done, it stays on.", "note-visibility": "shared"},
    )
    assert response.status_code == 302
    assert incident.notes.filter(body="Done, it stays on.", visibility="shared").exists()
    # It cannot slip in an internal note.
    response = client.post(
        f"/incidents/{incident.reference}/notes/",
        {"note-body": "sneaky", "note-visibility": "internal"},
    )
    assert response.status_code == 403
    assert not incident.notes.filter(body="sneaky").exists()


# --- The guided report form ------------------------------------------------------------


def test_reporter_sends_the_guided_form_and_gets_the_reference(world: World) -> None:
    client = client_for(world.users["national-bank.reporter"])
    page = html(client.get("/incidents/report/"))
    assert "Someone got into an account or system" in page
    assert "RED: named recipients only." in page  # the TLP explanation
    response = client.post(
        "/incidents/report/",
        {
            "reporting_org": "national-bank",
            "title": "Staff mailbox taken over",
            "what_happened": "intrusions/system-compromise",
            "description": "The CFO's mailbox sent payment requests.",
            "impact": "Payments stopped for a day.",
            "affected_systems": "3",
            "affected_people": "40",
            "data_breach": "on",
            "tlp": "AMBER+STRICT",
            "observables": "sender ceo(at)evil-bank[.]example via 198.51.100[.]77",
            "attachments": [
                SimpleUploadedFile("headers.txt", b"Received: from evil\n"),
                SimpleUploadedFile("shot.png", PNG),
            ],
        },
    )
    assert response.status_code == 302, html(response)
    incident = Incident.objects.get()
    assert response["Location"] == f"/incidents/{incident.reference}/received/"
    assert (incident.category, incident.type) == ("intrusions", "system-compromise")
    assert incident.tlp == "AMBER+STRICT"
    assert incident.data_breach
    assert incident.handling_team.slug == "banking"
    assert incident.attachments.count() == 2
    received = html(client.get(response["Location"]))
    assert incident.reference in received
    assert "ceo@evil-bank.example" in received
    assert "198.51.100.77" in received


def test_exact_rsit_choice_overrides_the_plain_words(world: World) -> None:
    client = client_for(world.users["national-bank.reporter"])
    client.post(
        "/incidents/report/",
        {
            "title": "Scan",
            "what_happened": "intrusions/system-compromise",
            "rsit": "information-gathering/scanner",
            "tlp": "AMBER",
        },
    )
    assert Incident.objects.get().category == "information-gathering"


def test_indicator_preview_shows_what_is_recognised(world: World) -> None:
    client = client_for(world.users["national-bank.reporter"])
    response = client.post(
        "/incidents/report/preview/",
        {"observables": "hxxps://pay-now[.]example/login and 198.51.100[.]23"},
        headers={"HX-Request": "true"},
    )
    page = html(response)
    assert "2 indicators recognised" in page
    assert "https://pay-now.example/login" in page
    assert "198.51.100.23" in page
    # Without JavaScript: the check button shows the same and keeps the answers.
    response = client.post(
        "/incidents/report/",
        {"title": "Kept", "tlp": "AMBER", "observables": "1.2.3[.]4", "preview": "1"},
    )
    assert response.status_code == 200
    assert "1.2.3.4" in html(response)
    assert 'value="Kept"' in html(response)
    assert not Incident.objects.exists()


def test_report_form_refuses_bad_input_without_a_500(world: World) -> None:
    client = client_for(world.users["national-bank.reporter"])
    response = client.post(
        "/incidents/report/",
        {"title": "", "tlp": "PURPLE", "affected_people": "-3", "rsit": "made/up"},
    )
    assert response.status_code == 400
    assert not Incident.objects.exists()


def test_council_member_cannot_report_and_gets_told_why(world: World) -> None:
    response = client_for(world.users["council"]).get("/incidents/report/")
    assert response.status_code == 403
    assert "Only organization members and CERT analysts" in html(response)


# --- The public form -------------------------------------------------------------------


def public_report(client: Client, **extra: str) -> Any:
    return client.post(
        "/report/",
        {
            "title": "Scam SMS",
            "description": "A message said my parcel is held and asked for my card.",
            "observables": "hxxps://parcel-fee[.]example/pay",
            "email": "citizen@example.net",
            **extra,
        },
    )


def test_citizen_reports_gets_a_code_once_and_checks_the_status(world: World) -> None:
    client = Client()
    assert client.get("/report/").status_code == 200
    response = public_report(client)
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    code = response.context["code"]
    assert code in html(response)
    incident = Incident.objects.get()
    assert incident.handling_team == world.teams["national"]
    assert code not in str(Incident.objects.values_list().get())  # only its hash is kept

    status = client.post("/report/status/", {"code": code})
    assert status.status_code == 200
    assert "waits for an analyst" in html(status)
    services.update_incident(
        actor=world.users["national.analyst"], incident=incident, changes={"status": "triaged"}
    )
    assert "An analyst has read your report" in html(client.post("/report/status/", {"code": code}))

    wrong = client.post("/report/status/", {"code": "x" * 27})
    assert wrong.status_code == 404
    assert "No report has this tracking code." in html(wrong)


def test_the_honeypot_answers_like_a_report_but_keeps_nothing(world: World) -> None:
    response = public_report(Client(), website="http://spam.example")
    assert response.status_code == 200
    assert "Your tracking code is" in html(response)
    assert not Incident.objects.exists()


def test_public_form_limits_sizes(world: World, settings: Any) -> None:
    settings.CERTHUB_PUBLIC_REPORT_MAX_TITLE = 20
    response = public_report(Client(), title="x" * 21)
    assert response.status_code == 400
    assert 'maxlength="20"' in html(response)
    assert not Incident.objects.exists()


def test_twenty_quick_public_reports_from_one_address_are_throttled(world: World) -> None:
    client = Client(REMOTE_ADDR="192.0.2.50")
    statuses = [public_report(client, title=f"Report {n}").status_code for n in range(20)]
    assert statuses[:5] == [200] * 5
    assert statuses[5:] == [429] * 15
    page = html(public_report(client))
    assert "Too many reports from your network address" in page
    assert Incident.objects.count() == 5
    # Another address is not affected.
    assert public_report(Client(REMOTE_ADDR="192.0.2.51")).status_code == 200


def test_public_pages_need_no_account_and_name_no_account(world: World) -> None:
    # The same answer whether or not the address belongs to a user (no enumeration).
    known = public_report(Client(REMOTE_ADDR="192.0.2.60"), email="banking.analyst@example.org")
    unknown = public_report(Client(REMOTE_ADDR="192.0.2.61"), email="nobody-here@example.net")

    def main(response: Any) -> str:
        page = html(response).replace(response.context["code"], "CODE")
        return page[page.index("<main") : page.index("</main>")]

    assert main(known) == main(unknown)
    assert selectors.incidents_visible_to(world.users["national.analyst"]).count() == 2
