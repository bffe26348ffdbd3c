"""Deadlines: reporting obligations by profile, response SLAs by priority, paused and
resumed with the status, counted when overdue, and each breach notified exactly once."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.utils import timezone

from certhub.incidents.models import Deadline, Incident
from certhub.incidents.selectors import get_incident, overdue_count
from certhub.incidents.services import check_deadlines, meet_deadline, update_incident
from certhub.incidents.tasks import check_deadlines as check_deadlines_task
from certhub.notify.models import OutboundMail
from tests.factories import World, build_world, make_incident

H = dt.timedelta(hours=1)


def _due(incident: Incident) -> dict[str, dt.timedelta]:
    return {
        d.kind: d.due_at - incident.reported_at for d in Deadline.objects.filter(incident=incident)
    }


@pytest.mark.django_db
def test_the_standard_profile_and_the_baseline_slas(world: World) -> None:
    incident = make_incident(world.users["national-bank.reporter"])
    assert incident.reporting_profile == "standard"
    assert _due(incident) == {
        "early_warning": 24 * H,
        "notification": 72 * H,
        "final_report": 30 * 24 * H,
        "acknowledge": 72 * H,
        "first_response": 5 * 24 * H,
        "resolve": 30 * 24 * H,
    }
    # The report itself is the early warning.
    assert Deadline.objects.get(incident=incident, kind="early_warning").met_at is not None


@pytest.mark.django_db
def test_cii_organizations_and_listed_sectors_get_the_strict_profile(world: World) -> None:
    cii = make_incident(world.users["city-bank.reporter"])
    power = make_incident(world.users["sindh-water.reporter"])
    for incident in (cii, power):
        assert incident.reporting_profile == "strict"
        assert _due(incident)["early_warning"] == 6 * H
        assert _due(incident)["notification"] == 24 * H


@pytest.mark.django_db
def test_reporting_deadlines_count_from_detection(world: World) -> None:
    detected = timezone.now() - 10 * H
    incident = make_incident(world.users["national-bank.reporter"], detected_at=detected)
    notification = Deadline.objects.get(incident=incident, kind="notification")
    assert notification.due_at == detected + 72 * H


@pytest.mark.django_db
def test_public_reports_carry_only_the_response_slas(world: World) -> None:
    from certhub.incidents.services import submit_public_report

    receipt = submit_public_report(title="t", description="d", ip_address="192.0.2.1")
    assert set(_due(receipt.incident)) == {"acknowledge", "first_response", "resolve"}


@pytest.mark.django_db
def test_slas_move_with_the_priority_and_work_meets_them(world: World) -> None:
    incident = make_incident(world.users["national-bank.reporter"])
    analyst = world.users["banking.analyst"]
    severe = {
        "functional_impact": "denial_of_critical",
        "information_impact": "critical_systems_breach",
        "recoverability": "extended",
        "observed_activity": "effect",
        "location": "critical_systems",
        "actor": "criminal",
        "cross_sector_dependency": "low",
        "potential_impact": "significant",
    }
    update_incident(
        actor=analyst,
        incident=get_incident(analyst, incident.reference),
        changes={"severity": severe, "status": "triaged"},
    )
    incident.refresh_from_db()
    assert incident.priority == 5
    due = _due(incident)
    assert due["first_response"] == 1 * H
    assert due["resolve"] == 24 * H
    assert Deadline.objects.get(incident=incident, kind="acknowledge").met_at is not None


@pytest.mark.django_db
def test_deadlines_pause_in_configured_statuses_and_resume_later(world: World) -> None:
    incident = make_incident(world.users["national-bank.reporter"])
    analyst = world.users["banking.analyst"]
    update_incident(
        actor=analyst,
        incident=get_incident(analyst, incident.reference),
        changes={"status": "rejected"},
    )
    resolve = Deadline.objects.get(incident=incident, kind="resolve")
    assert resolve.paused_at is not None
    before = resolve.due_at
    # Two hours pass while the incident is rejected.
    Deadline.objects.filter(incident=incident).update(paused_at=timezone.now() - 2 * H)
    update_incident(
        actor=analyst,
        incident=get_incident(analyst, incident.reference),
        changes={"status": "triaged"},
    )
    resolve.refresh_from_db()
    assert resolve.paused_at is None
    assert dt.timedelta(hours=2) <= resolve.due_at - before < dt.timedelta(hours=2, minutes=1)
    assert resolve.paused_for >= 2 * H


@pytest.mark.django_db
def test_overdue_deadlines_are_counted_for_those_who_see_them(world: World) -> None:
    incident = make_incident(world.users["national-bank.reporter"])
    later = timezone.now() + 80 * H  # notification (72 h) and acknowledge (72 h) missed
    assert overdue_count(world.users["banking.analyst"], later) == 2
    assert overdue_count(world.users["telecom.analyst"], later) == 0
    meet_deadline(
        actor=world.users["national-bank.reporter"],
        incident=get_incident(world.users["national-bank.reporter"], incident.reference),
        kind="notification",
    )
    assert overdue_count(world.users["banking.analyst"], later) == 1


@pytest.mark.django_db
def test_a_breach_is_notified_once_however_often_the_check_runs(world: World) -> None:
    incident = make_incident(world.users["national-bank.reporter"])
    later = timezone.now() + 80 * H
    assert check_deadlines(now=later) == 2
    assert check_deadlines(now=later) == 0
    assert check_deadlines(now=later + H) == 0
    mails = OutboundMail.objects.filter(kind="deadline_breached")
    # The team hears of both; the reporter of its own missed notification only.
    assert mails.count() == 3
    assert all(f"[{incident.reference}]" in m.subject for m in mails)
    reporter_mail = mails.get(recipients=["national-bank.reporter@example.org"])
    assert "Incident notification" in reporter_mail.subject
    assert incident.timeline.filter(action="deadline_breached").count() == 2


@pytest.mark.django_db(transaction=True)
def test_the_periodic_task_runs_in_the_worker_and_notifies(smtp_server) -> None:
    world = build_world()
    incident = make_incident(world.users["national-bank.reporter"])
    Deadline.objects.filter(incident=incident, kind="acknowledge").update(due_at=timezone.now() - H)
    check_deadlines_task.enqueue()
    call_command("db_worker", "--batch", "--queue-name", "*", "--no-startup-delay", verbosity=0)
    assert Deadline.objects.get(incident=incident, kind="acknowledge").breach_notified_at
    subjects = [m.message["Subject"] for m in smtp_server.messages]
    assert any(
        s.startswith(f"[TLP:AMBER] [{incident.reference}] Deadline missed") for s in subjects
    ), subjects
    breach = next(m for m in smtp_server.messages if "Deadline missed" in m.message["Subject"])
    assert breach.message.get_content().startswith("TLP:AMBER")


@pytest.mark.django_db
def test_the_command_notifies_breaches_once(world: World) -> None:
    from io import StringIO

    incident = make_incident(world.users["national-bank.reporter"])
    Deadline.objects.filter(incident=incident, kind="acknowledge").update(due_at=timezone.now() - H)
    first, second = StringIO(), StringIO()
    call_command("incidents", "check-deadlines", stdout=first)
    call_command("incidents", "check-deadlines", stdout=second)
    assert first.getvalue().startswith("1 newly breached")
    assert second.getvalue().startswith("0 newly breached")
