"""The services the work UI added: completing a task, bulk changes through
``update_incident``, and saved queue views; each audited, each checking the role."""

from __future__ import annotations

import pytest

from certhub.audit.models import AuditEntry
from certhub.core.errors import Conflict, Forbidden, Invalid, NotFound
from certhub.incidents import selectors, services
from certhub.incidents.choices import Status
from certhub.incidents.models import SavedView
from tests.factories import World, make_incident

pytestmark = pytest.mark.django_db


def test_analyst_completes_a_task_once_on_the_timeline_and_audited(world: World) -> None:
    incident = make_incident(world.users["national-bank.reporter"])
    analyst = world.users["banking.analyst"]
    task = services.add_task(actor=analyst, incident=incident, title="Image the disk")
    done = services.complete_task(actor=analyst, incident=incident, task_id=task.pk)
    assert done.done_at is not None
    entry = incident.timeline.get(action="task_completed")
    assert entry.internal
    assert entry.summary == "Image the disk"
    assert AuditEntry.objects.filter(action="incident.task_completed", object_id=str(task.pk))
    with pytest.raises(Conflict):
        services.complete_task(actor=analyst, incident=incident, task_id=task.pk)


def test_viewer_and_reporter_cannot_complete_tasks(world: World) -> None:
    incident = make_incident(world.users["national-bank.reporter"])
    task = services.add_task(actor=world.users["banking.analyst"], incident=incident, title="T")
    for name in ("banking.viewer", "national-bank.reporter"):
        with pytest.raises(Forbidden):
            services.complete_task(actor=world.users[name], incident=incident, task_id=task.pk)
    task.refresh_from_db()
    assert task.done_at is None


def test_a_task_of_another_incident_is_not_found(world: World) -> None:
    first = make_incident(world.users["national-bank.reporter"])
    second = make_incident(world.users["national-bank.reporter"], "Other")
    analyst = world.users["banking.analyst"]
    task = services.add_task(actor=analyst, incident=second, title="T")
    with pytest.raises(NotFound):
        services.complete_task(actor=analyst, incident=first, task_id=task.pk)


def test_participating_telecom_analyst_may_complete_tasks(world: World) -> None:
    incident = make_incident(world.users["national-bank.reporter"])
    services.add_participant(
        actor=world.users["national.coordinator"], incident=incident, team="telecom"
    )
    task = services.add_task(actor=world.users["banking.analyst"], incident=incident, title="T")
    services.complete_task(actor=world.users["telecom.analyst"], incident=incident, task_id=task.pk)


def test_bulk_status_change_goes_through_update_incident_for_each(world: World) -> None:
    incidents = [make_incident(world.users["national-bank.reporter"], f"I{n}") for n in range(3)]
    changed = services.bulk_update_incidents(
        actor=world.users["banking.analyst"],
        references=[i.reference.lower() for i in incidents],
        changes={"status": Status.TRIAGED},
    )
    assert [i.status for i in changed] == [Status.TRIAGED] * 3
    assert AuditEntry.objects.filter(action="incident.status_changed").count() == 3


def test_bulk_change_refused_on_one_incident_changes_none(world: World) -> None:
    ours = make_incident(world.users["national-bank.reporter"])
    theirs = make_incident(world.users["telco.reporter"], "Telco")
    with pytest.raises(NotFound, match=theirs.reference):
        services.bulk_update_incidents(
            actor=world.users["banking.analyst"],
            references=[ours.reference, theirs.reference],
            changes={"assignee": "banking.analyst"},
        )
    ours.refresh_from_db()
    assert ours.assignee is None


def test_bulk_change_accepts_only_status_or_assignee(world: World) -> None:
    incident = make_incident(world.users["national-bank.reporter"])
    with pytest.raises(Invalid):
        services.bulk_update_incidents(
            actor=world.users["banking.analyst"],
            references=[incident.reference],
            changes={"tlp": "RED"},
        )
    with pytest.raises(Invalid):
        services.bulk_update_incidents(
            actor=world.users["banking.analyst"], references=[], changes={"status": "triaged"}
        )


def test_saved_views_are_personal_and_replaced_by_name(world: World) -> None:
    analyst = world.users["banking.analyst"]
    first = services.save_view(actor=analyst, name="Mine", query="?status=new")
    assert first.query == "status=new"
    again = services.save_view(actor=analyst, name="Mine", query="overdue=on")
    assert again.pk == first.pk
    assert again.query == "overdue=on"
    assert [v.name for v in selectors.saved_views_for(analyst)] == ["Mine"]
    assert selectors.saved_views_for(world.users["telecom.analyst"]) == []
    with pytest.raises(NotFound):
        services.delete_saved_view(actor=world.users["telecom.analyst"], view_id=first.pk)
    services.delete_saved_view(actor=analyst, view_id=first.pk)
    assert not SavedView.objects.exists()
    assert AuditEntry.objects.filter(action__startswith="incident.view_").count() == 3


def test_saved_view_name_is_required(world: World) -> None:
    with pytest.raises(Invalid):
        services.save_view(actor=world.users["banking.analyst"], name="  ", query="")
