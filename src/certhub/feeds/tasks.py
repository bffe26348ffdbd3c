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
    if reschedule:
        interval = int(getattr(settings, "CERTHUB_FEEDS_INBOX_INTERVAL", 60))
        watch_inbox.using(run_after=timezone.now() + dt.timedelta(seconds=interval)).enqueue(
            reschedule=True
        )
    return len(outcomes)
