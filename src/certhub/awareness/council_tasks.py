"""Background work of the Council and the CII registry, run by `certhub db_worker`."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.tasks import task
from django.utils import timezone

from certhub.awareness import council_services


@task(queue_name="default")
def council_daily(reschedule: bool = True) -> dict[str, int]:
    """Once a day (CERTHUB_COUNCIL_DAILY_HOUR, UTC, default 5): end the Council access of
    members whose term has ended, and remind the CII CERT of due and overdue reviews."""
    flags = council_services.sync_council_flags(actor=None)
    reminders = council_services.send_cii_review_reminders()
    if reschedule:
        hour = int(getattr(settings, "CERTHUB_COUNCIL_DAILY_HOUR", 5))
        now = timezone.now()
        after = now.replace(hour=hour, minute=0, second=0, microsecond=0)
        if after <= now:
            after += dt.timedelta(days=1)
        council_daily.using(run_after=after).enqueue(reschedule=True)
    return {"council_flags": flags, "upcoming": reminders.upcoming, "overdue": reminders.overdue}
