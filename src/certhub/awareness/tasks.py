"""Background work of the awareness app, run by `certhub db_worker`."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.tasks import task
from django.utils import timezone

from certhub.awareness import services


@task(queue_name="default")
def refresh_rollups(reschedule: bool = False) -> dict[str, int]:
    """Recount every incident into the rollups (deadlines fall overdue without anyone
    saving anything), generate the national reports of a period that just ended, and,
    with ``reschedule``, come back after CERTHUB_AWARENESS_REFRESH_INTERVAL seconds
    (default one hour)."""
    written = {"incidents": services.refresh_all_incidents()}
    written["reports"] = len(services.generate_due_reports())
    if reschedule:
        interval = int(getattr(settings, "CERTHUB_AWARENESS_REFRESH_INTERVAL", 3600))
        refresh_rollups.using(run_after=timezone.now() + dt.timedelta(seconds=interval)).enqueue(
            reschedule=True
        )
    return written


@task(queue_name="default")
def refresh_event_rollups(days: list[str]) -> int:
    """Recount the feed events of some days (ISO dates), e.g. after pruning."""
    return services.refresh_event_days(days=[dt.date.fromisoformat(d) for d in days])


@task(queue_name="default")
def generate_report(
    period: str, edition: str, month: str | None = None, user_id: int | None = None
) -> int:
    """Render and store a national report; returns its id."""
    from django.contrib.auth import get_user_model

    actor = get_user_model().objects.filter(pk=user_id).first() if user_id else None
    return services.generate_report(actor=actor, period=period, edition=edition, month=month).pk
