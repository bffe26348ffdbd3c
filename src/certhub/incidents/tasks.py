"""Background work of incidents (thin wrappers over services)."""

from __future__ import annotations

from django.tasks import task

from certhub.incidents import services


@task(queue_name="default")
def check_deadlines() -> int:
    """Periodic: notify each newly breached deadline once. Run it every few minutes
    (cron or a scheduler calling ``certhub incidents check-deadlines``)."""
    return services.check_deadlines()
