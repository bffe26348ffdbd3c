"""How intel hears of new indicators from the apps below it (their signals, sent after
their transactions commit)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.db import transaction


def on_observables_added(
    sender: Any, *, incident_id: int, observable_ids: Sequence[int], **kwargs: Any
) -> None:
    # A handful of rows: indexed at once, so the incident page correlates them now.
    from certhub.intel.services import index_observables

    index_observables(observable_ids=observable_ids)


def on_events_loaded(sender: Any, *, run: Any, days: Sequence[dt.date], **kwargs: Any) -> None:
    # Up to millions of events: the worker indexes them, off the ingest's request.
    from certhub.intel.tasks import index_feed_run

    run_id, day_texts = run.pk, [day.isoformat() for day in days]
    transaction.on_commit(lambda: index_feed_run.enqueue(run_id, day_texts))
