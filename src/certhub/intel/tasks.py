"""Background work of the intel app, run by `certhub db_worker`."""

from __future__ import annotations

import datetime as dt

from django.tasks import task

from certhub.intel import services


@task(queue_name="default")
def index_feed_run(run_id: int, days: list[str]) -> int:
    """Index one ingest run's events (enqueued when feeds says a run was loaded)."""
    done = services.index_feed_run(run_id=run_id, days=[dt.date.fromisoformat(day) for day in days])
    return done.sightings if done else 0
