"""What the incidents app tells the apps above it (DESIGN.md's import ladder forbids
incidents from calling them): intel indexes new observables for correlation. Sent after
the transaction that added them commits, so a receiver never sees rows that could still
roll back. Removals need no signal: an observable's dependents go with it."""

from __future__ import annotations

from django.dispatch import Signal

# Sent with ``incident_id`` and ``observable_ids`` (the observables just added).
observables_added = Signal()
