"""The CII registry as its keepers and its readers meet it: the National CERT and the
CII CERT record a ministry's designation, grade from the criteria (or by hand with a
reason), review yearly and revoke; every grade change stays in the history; the grade
raises the severity of new incidents; the CII CERT is reminded of reviews once each;
others read only what they may see, and nobody else writes."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from certhub.audit.models import AuditEntry
from certhub.awareness import council_services
from certhub.core.errors import Conflict, Forbidden, Invalid
from certhub.incidents.choices import Priority
from certhub.notify.models import OutboundMail
from certhub.tenancy import services
from certhub.tenancy.choices import CIIGradeMethod
from certhub.tenancy.models import CIICriterion, CIIGradeChange, Contact, Organization
from tests.factories import World, make_incident

pytestmark = pytest.mark.django_db

# Every criterion answered at its top level scores 100 (grade 1); these score 18 (grade 3).
TOP = {
    "population": "national",
    "substitutability": "none",
    "dependency": "many",
    "state_functions": "critical",
    "economic_impact": "high",
}
LOW = {
    "population": "local",
    "substitutability": "easy",
    "dependency": "some",
    "state_functions": "none",
    "economic_impact": "medium",
}


@pytest.fixture(autouse=True)
def _criteria_and_no_mfa(world: World, settings: Any) -> None:
    settings.CERTHUB_REQUIRE_MFA = False
    services.install_default_cii_criteria(actor=None)


def today() -> dt.date:
    return timezone.now().astimezone(dt.UTC).date()


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def designate_telco(world: World, who: str = "national.coordinator", **extra: Any) -> Any:
    values: dict[str, Any] = {
        "authority": "Ministry of Information Technology",
        "designated_on": today(),
        "decision_reference": "MoITT/CII/2026/7",
        "answers": TOP,
    }
    values.update(extra)
    return services.designate_cii(
        actor=world.users[who], organization=world.orgs["telco"], **values
    )


# --- Designation and grading ----------------------------------------------------------


def test_the_national_coordinator_records_a_ministrys_designation(world: World) -> None:
    designation = designate_telco(world)
    telco = Organization.objects.get(slug="telco")
    assert telco.is_cii
    assert telco.cii_grade == "1"
    assert telco.cii_review_date == today() + dt.timedelta(days=365)
    assert designation.authority == "Ministry of Information Technology"
    assert designation.recorded_by == world.users["national.coordinator"]
    (change,) = CIIGradeChange.objects.filter(organization=telco)
    assert (change.old_grade, change.new_grade, change.method) == ("", "1", "criteria")
    assert change.score == 100
    assert change.answers == TOP
    assert AuditEntry.objects.filter(action="organization.cii_designate").count() == 1


def test_the_cii_cert_coordinator_designates_too(world: World) -> None:
    designate_telco(world, who="cii.coordinator", answers=LOW)
    telco = Organization.objects.get(slug="telco")
    assert telco.cii_grade == "3"
    assert CIIGradeChange.objects.get(organization=telco).score == 18


@pytest.mark.parametrize(
    "who", ["cii.analyst", "national.analyst", "banking.coordinator", "telco.org_admin", "council"]
)
def test_nobody_else_designates(world: World, who: str) -> None:
    with pytest.raises(Forbidden):
        designate_telco(world, who=who)
    assert not Organization.objects.get(slug="telco").is_cii


def test_a_grade_is_computed_only_from_a_whole_form(world: World) -> None:
    with pytest.raises(Invalid, match="Answer the criterion"):
        designate_telco(world, answers={"population": "national"})
    with pytest.raises(Invalid, match="not a level"):
        designate_telco(world, answers={**TOP, "population": "galactic"})
    with pytest.raises(Invalid, match="Say why"):
        designate_telco(world, answers=None, grade="2")
    designate_telco(world, answers=None, grade="2", reason="Ministry decision, no assessment yet.")
    assert Organization.objects.get(slug="telco").cii_grade == "2"


def test_designating_twice_is_refused(world: World) -> None:
    designate_telco(world)
    with pytest.raises(Conflict):
        designate_telco(world)


def test_every_regrade_is_kept_with_who_when_and_why(world: World) -> None:
    designate_telco(world)
    telco = world.orgs["telco"]
    services.regrade_cii(
        actor=world.users["cii.coordinator"], organization=telco, answers=LOW, reason="Reassessed."
    )
    services.regrade_cii(
        actor=world.users["national.coordinator"],
        organization=telco,
        grade="2",
        reason="Ministry raised it after the outage.",
    )
    history = list(CIIGradeChange.objects.filter(organization=telco).order_by("changed_at", "id"))
    assert [(c.old_grade, c.new_grade) for c in history] == [("", "1"), ("1", "3"), ("3", "2")]
    assert [c.method for c in history] == ["criteria", "criteria", "set"]
    assert history[2].changed_by == world.users["national.coordinator"]
    assert history[2].reason == "Ministry raised it after the outage."
    assert AuditEntry.objects.filter(action="organization.cii_grade").count() == 3


def test_revoking_keeps_the_record(world: World) -> None:
    designation = designate_telco(world)
    with pytest.raises(Invalid):
        services.revoke_cii(
            actor=world.users["national.coordinator"],
            organization=world.orgs["telco"],
            revoked_on=today(),
            reason="",
        )
    services.revoke_cii(
        actor=world.users["national.coordinator"],
        organization=world.orgs["telco"],
        revoked_on=today(),
        reason="Service decommissioned.",
    )
    telco = Organization.objects.get(slug="telco")
    assert (telco.is_cii, telco.cii_grade, telco.cii_review_date) == (False, "", None)
    designation.refresh_from_db()
    assert designation.revoked_on == today()
    last = CIIGradeChange.objects.filter(organization=telco).order_by("-id").first()
    assert last is not None
    assert (last.old_grade, last.new_grade, last.method) == (
        "1",
        "",
        "revocation",
    )


def test_the_constituency_import_is_in_the_grade_history_too(world: World) -> None:
    services.upsert_organization(
        actor=world.users["admin"],
        slug="grid",
        name="Grid",
        sector=world.orgs["grid"].sector,
        responsible_team=world.teams["cii"],
        is_cii=True,
        cii_grade="2",
    )
    change = CIIGradeChange.objects.get(organization=world.orgs["grid"])
    assert (change.old_grade, change.new_grade, change.method) == ("1", "2", CIIGradeMethod.IMPORT)


# --- The grade feeds the severity -----------------------------------------------------


def test_a_regrade_changes_the_severity_of_a_new_incident(world: World) -> None:
    reporter = world.users["city-bank.reporter"]
    before = make_incident(reporter, "Card fraud wave")
    assert before.priority == Priority.BASELINE + 2  # grade 1 raises two levels
    services.regrade_cii(
        actor=world.users["national.coordinator"],
        organization=world.orgs["city-bank"],
        grade="3",
        reason="Smaller than thought.",
    )
    after = make_incident(reporter, "Card fraud wave, again")
    assert after.priority == Priority.BASELINE + 1  # grade 3 raises one
    services.revoke_cii(
        actor=world.users["national.coordinator"],
        organization=world.orgs["city-bank"],
        revoked_on=today(),
        reason="Merged into National Bank.",
    )
    assert make_incident(reporter, "Phishing").priority == Priority.BASELINE


# --- Reminders to the CII CERT --------------------------------------------------------


def _set_review(org: Organization, day: dt.date) -> None:
    Organization.objects.filter(pk=org.pk).update(cii_review_date=day)


def test_the_cii_cert_is_reminded_once_before_and_once_when_overdue(world: World) -> None:
    grid = world.orgs["grid"]
    Contact.objects.create(team=world.teams["cii"], name="CII duty", email="duty@cii.example")
    _set_review(grid, today() + dt.timedelta(days=10))
    _set_review(world.orgs["city-bank"], today() + dt.timedelta(days=200))  # not yet
    outcome = council_services.send_cii_review_reminders()
    assert (outcome.upcoming, outcome.overdue) == (1, 0)
    (mail,) = OutboundMail.objects.filter(kind="cii_review")
    assert mail.recipients == ["cii.coordinator@example.org", "duty@cii.example"]
    assert "Grid" in mail.subject
    assert mail.tlp == "AMBER"
    assert "/directory/cii/grid/" in mail.body
    # Every day until the review: nothing more.
    assert council_services.send_cii_review_reminders().upcoming == 0
    later = today() + dt.timedelta(days=11)
    outcome = council_services.send_cii_review_reminders(on=later)
    assert (outcome.upcoming, outcome.overdue) == (0, 1)
    assert council_services.send_cii_review_reminders(on=later).overdue == 0
    assert OutboundMail.objects.filter(kind="cii_review").count() == 2
    # Once reviewed, the next review is a year away: the next reminder is for that date.
    services.complete_cii_review(
        actor=world.users["cii.coordinator"], organization=grid, reviewed_on=later
    )
    grid.refresh_from_db()
    assert grid.cii_review_date == later + dt.timedelta(days=365)
    assert council_services.send_cii_review_reminders(on=later).overdue == 0


@pytest.mark.django_db(transaction=True)
def test_the_daily_task_mails_the_reminder_through_smtp(world: World, smtp_server: Any) -> None:
    from certhub.awareness.council_tasks import council_daily

    _set_review(world.orgs["grid"], today() - dt.timedelta(days=3))
    council_daily.enqueue(reschedule=False)
    call_command("db_worker", "--batch", "--queue-name", "*", "--no-startup-delay", verbosity=0)
    (received,) = smtp_server.messages
    assert received.rcpt_tos == ["cii.coordinator@example.org"]
    assert "CII review overdue: Grid" in received.message["Subject"]


# --- Pages ---------------------------------------------------------------------------


def test_the_registry_pages_tell_the_story(world: World) -> None:
    client = client_for(world.users["national.coordinator"])
    response = client.post(
        "/directory/cii/telco/designate/",
        {
            "authority": "Ministry of IT",
            "designated_on": today().isoformat(),
            **{f"criterion_{slug}": level for slug, level in TOP.items()},
        },
    )
    assert response.status_code == 302
    assert response["Location"] == "/directory/cii/telco/"
    response = client.post(
        "/directory/cii/telco/regrade/", {"grade": "2"}
    )  # no reason: refused on the form
    assert response.status_code == 400
    assert "Say why" in response.content.decode()
    client.post("/directory/cii/telco/regrade/", {"grade": "2", "reason": "Ministry letter."})
    page = client.get("/directory/cii/telco/").content.decode()
    assert "Ministry letter." in page
    assert "Ministry of IT" in page
    register = client.get("/directory/cii/").content.decode()
    assert "Telco" in register
    assert "People depending on the service" in register


def test_a_reader_sees_the_record_but_no_form(world: World) -> None:
    client = client_for(world.users["cii.analyst"])
    page = client.get("/directory/cii/city-bank/")
    assert page.status_code == 200
    assert "Regrade" not in page.content.decode()
    response = client.post("/directory/cii/city-bank/regrade/", {"grade": "3", "reason": "x"})
    assert response.status_code == 404
    assert Organization.objects.get(slug="city-bank").cii_grade == "1"


@pytest.mark.parametrize("who", ["punjab.analyst", "national-bank.reporter", "council", "nobody"])
def test_others_get_404_on_a_record_they_may_not_see(world: World, who: str) -> None:
    client = client_for(world.users[who])
    assert client.get("/directory/cii/grid/").status_code == 404
    assert client.post("/directory/cii/grid/revoke/", {"reason": "x"}).status_code == 404
    assert "Grid" not in client.get("/directory/cii/").content.decode()


def test_the_banking_cert_reads_its_own_cii_organizations_only(world: World) -> None:
    register = client_for(world.users["banking.analyst"]).get("/directory/cii/").content.decode()
    assert "City-Bank" in register
    assert "Grid" not in register


def test_the_registry_survives_garbage_parameters(world: World) -> None:
    client = client_for(world.users["national.coordinator"])
    for params in ({"page": "-1'"}, {"grade": "9"}, {"sector": "\x00"}, {"q": "\x00%"}):
        assert client.get("/directory/cii/", params).status_code < 500
    assert CIICriterion.objects.count() == 5


def test_the_daily_pass_from_the_command_line(world: World) -> None:
    from io import StringIO

    Organization.objects.filter(slug="grid").update(cii_review_date=today() + dt.timedelta(days=5))
    out = StringIO()
    call_command("council", "daily", stdout=out)
    assert "1 due soon, 0 overdue" in out.getvalue()
    out = StringIO()
    call_command(
        "council", "daily", "--on", (today() + dt.timedelta(days=6)).isoformat(), stdout=out
    )
    assert "0 due soon, 1 overdue" in out.getvalue()


# --- API -------------------------------------------------------------------------------


def test_the_registry_through_the_api(world: World) -> None:
    from tests.factories import bearer_client

    designate_telco(world)
    keeper = bearer_client(world.users["cii.coordinator"])
    rows = keeper.get("/api/v1/cii/organizations").json()["items"]
    assert [(r["organization"], r["cii_grade"]) for r in rows] == [
        ("city-bank", "1"),
        ("grid", "1"),
        ("telco", "1"),
    ]
    assert rows[2]["designated_by"] == "Ministry of Information Technology"
    response = keeper.post(
        "/api/v1/cii/organizations/telco/grade",
        {"answers": LOW, "reason": "Annual reassessment."},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    record = response.json()
    assert record["cii_grade"] == "3"
    assert [(h["old_grade"], h["new_grade"], h["score"]) for h in record["history"]] == [
        ("1", "3", 18),
        ("", "1", 100),
    ]
    assert record["history"][0]["changed_by"] == "cii.coordinator"
    # An analyst reads but may not regrade; a stranger to the grid gets 404.
    analyst = bearer_client(world.users["cii.analyst"])
    refused = analyst.post(
        "/api/v1/cii/organizations/telco/grade",
        {"grade": "1", "reason": "x"},
        content_type="application/json",
    )
    assert refused.status_code == 403
    reporter = bearer_client(world.users["national-bank.reporter"])
    assert reporter.get("/api/v1/cii/organizations/grid").status_code == 404
    assert reporter.get("/api/v1/cii/organizations").json()["items"] == []
    # Another branch of the tree: the Telecom CERT reads its telco, not the banks' CII.
    telecom = bearer_client(world.users["telecom.analyst"])
    assert telecom.get("/api/v1/cii/organizations/city-bank").status_code == 404
    assert (
        telecom.post(
            "/api/v1/cii/organizations/city-bank/grade",
            {"grade": "1", "reason": "x"},
            content_type="application/json",
        ).status_code
        == 404
    )
    listed = [r["organization"] for r in telecom.get("/api/v1/cii/organizations").json()["items"]]
    assert "city-bank" not in listed
    missing = keeper.post(
        "/api/v1/cii/organizations/telco/grade", {"grade": "2"}, content_type="application/json"
    )
    assert missing.status_code == 400
    assert "Say why" in missing.json()["detail"]


def test_a_grade_changed_in_the_administration_is_in_the_history(world: World) -> None:
    from tests.tenancy.test_admin import _org_form

    client = client_for(world.users["admin"])
    form = _org_form(world, is_cii="on", cii_grade="2")
    response = client.post("/admin/tenancy/organization/add/", form)
    assert response.status_code == 302, response.content.decode()[:2000]
    org = Organization.objects.get(slug="example-microfinance")
    change = CIIGradeChange.objects.get(organization=org)
    assert (change.old_grade, change.new_grade, change.changed_by) == (
        "",
        "2",
        world.users["admin"],
    )
