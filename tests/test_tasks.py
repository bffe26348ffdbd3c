"""Background work goes through Django's task framework with the database-backed queue:
a task enqueued by the web process is picked up by `certhub db_worker`."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import transaction
from django.tasks import task

from certhub.audit import services as audit
from certhub.audit.models import AuditEntry


@task(queue_name="default")
def record_heartbeat(note: str) -> str:
    with transaction.atomic():
        audit.record(actor=None, action="test.heartbeat", object_repr=note)
    return note.upper()


@pytest.mark.django_db(transaction=True)
def test_enqueued_task_runs_in_the_database_worker() -> None:
    result = record_heartbeat.enqueue("from the web process")
    assert AuditEntry.objects.filter(action="test.heartbeat").count() == 0
    call_command("db_worker", "--batch", "--queue-name", "*", "--no-startup-delay", verbosity=0)
    result.refresh()
    assert result.status == "SUCCESSFUL"
    assert result.return_value == "FROM THE WEB PROCESS"
    assert AuditEntry.objects.get(action="test.heartbeat").object_repr == "from the web process"
