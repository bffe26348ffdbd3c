"""Background work of the feeds app, run by `certhub db_worker`."""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.tasks import task
from django.utils import timezone

from certhub.feeds import services

logger = logging.getLogger(__name__)


@task(queue_name="feeds")
def watch_inbox(reschedule: bool = True) -> int:
    """Ingest what waits in the inbox (CERTHUB_FEEDS_INBOX), then enqueue the next look
    (every CERTHUB_FEEDS_INBOX_INTERVAL seconds) so the worker keeps watching."""
    inbox = services.inbox_folder()
    if inbox is None:
        logger.warning("CERTHUB_FEEDS_INBOX is not set: the feeds inbox is not watched")
        return 0
    outcomes = services.process_inbox(inbox=inbox)
    for outcome in outcomes:
        logger.info("feeds inbox: %s: %s (%s)", outcome.file_name, outcome.status, outcome.message)
    # New events may meet a feed rule: run the rules over their latest day now, not
    # only in the daily run.
    days = {
        outcome.run.file.last_day
        for outcome in outcomes
        if outcome.status == "done" and outcome.run and outcome.run.file
    }
    for day in sorted(d for d in days if d is not None):
        apply_rules.enqueue(day.isoformat())
    if reschedule:
        interval = int(getattr(settings, "CERTHUB_FEEDS_INBOX_INTERVAL", 60))
        watch_inbox.using(run_after=timezone.now() + dt.timedelta(seconds=interval)).enqueue(
            reschedule=True
        )
    return len(outcomes)


# --- Outputs: digests and rules --------------------------------------------------------


def _day(value: str | None) -> dt.date:
    from certhub.feeds.digests import default_day

    return dt.date.fromisoformat(value) if value else default_day()


@task(queue_name="feeds")
def send_digests(day: str | None = None) -> dict[str, int]:
    """The organization digests and team summaries of ``day`` (default yesterday, UTC)."""
    from certhub.feeds import digests

    outcome = digests.send_digests(day=_day(day))
    return {"organizations": outcome.organizations, "teams": outcome.teams}


@task(queue_name="feeds")
def apply_rules(day: str | None = None) -> int:
    """Run the feed rules over ``day`` (default yesterday, UTC); returns the firings."""
    from certhub.feeds import rules

    return len(rules.apply_rules(day=_day(day)).fired)


@task(queue_name="feeds")
def daily_outputs(reschedule: bool = True) -> None:
    """Once a day (CERTHUB_FEEDS_DIGEST_HOUR, UTC, default 6): yesterday's rules, then
    its digests (so a digest goes out after the incidents its day opened), and the
    next day's run."""
    day = _day(None)
    apply_rules.call(day.isoformat())
    send_digests.call(day.isoformat())
    if reschedule:
        hour = int(getattr(settings, "CERTHUB_FEEDS_DIGEST_HOUR", 6))
        now = timezone.now()
        after = now.replace(hour=hour, minute=0, second=0, microsecond=0)
        if after <= now:
            after += dt.timedelta(days=1)
        daily_outputs.using(run_after=after).enqueue(reschedule=True)
