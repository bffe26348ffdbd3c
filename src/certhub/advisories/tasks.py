"""Background work of advisories (thin wrappers over services), run by `certhub db_worker`."""

from __future__ import annotations

from django.tasks import task

from certhub.advisories import services


@task(queue_name="default")
def distribute_advisory(advisory_id: int, revision_number: int) -> int:
    """Inbox deliveries and e-mails of a newly published revision (enqueued on publish,
    update and withdrawal)."""
    return services.distribute_revision(advisory_id=advisory_id, revision_number=revision_number)


@task(queue_name="default")
def send_ack_reminders() -> int:
    """Periodic: remind organizations, once, that have not acknowledged an advisory within
    its deadline. Run it every few minutes (cron or a scheduler calling
    ``certhub advisories remind``)."""
    return services.send_ack_reminders()
