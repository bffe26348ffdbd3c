"""What the feeds app tells the apps above it (DESIGN.md's import ladder forbids feeds
from calling them): intel indexes the new events' indicators, awareness refreshes its
daily rollups. Sent after the ingest transaction commits, so a receiver never sees
events that could still roll back."""

from __future__ import annotations

from django.dispatch import Signal

# Sent with ``run`` (the IngestRun, status done) and ``days`` (sorted list of the event
# days, UTC, the file touched). Events of the run: feeds.selectors.events_of_run(run).
events_loaded = Signal()
