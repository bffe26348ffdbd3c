"""The deadlines an incident carries (``data/deadlines.json``).

- Reporting obligations of the reporting organization (early warning, notification,
  final report) follow its reporting profile: the strict profile for CII organizations
  and the sectors named in the data, the standard one otherwise; counted from
  detection, or from the report when detection is unknown. The report itself is the
  early warning. Public reports carry none (a citizen has no obligation).
- Response SLAs of the handling CERT (acknowledge, first response, resolve) follow the
  priority, counted from the report, and move when the priority changes.
- In the statuses the data names, a deadline's clock stops; on leaving them it resumes
  and its due date moves by the time spent paused.
These functions run inside the services' transactions."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from certhub.incidents.catalog import deadline_rules
from certhub.incidents.choices import (
    REPORTING_DEADLINES,
    SLA_DEADLINES,
    DeadlineKind,
    Status,
)
from certhub.incidents.models import Deadline, Incident
from certhub.tenancy.models import Organization


def profile_for(orgs: Iterable[Organization]) -> str:
    """The reporting profile of an incident involving ``orgs`` ("" without any)."""
    orgs = list(orgs)
    if not orgs:
        return ""
    rules = deadline_rules()
    if rules.cii_profile and any(org.is_cii for org in orgs):
        return rules.cii_profile
    for org in orgs:
        profile = rules.sector_profiles.get(org.sector.slug)
        if profile:
            return profile
    return rules.default_profile


def _reporting_due(incident: Incident, profile: str) -> dict[str, dt.datetime]:
    start = incident.detected_at or incident.reported_at
    durations = deadline_rules().profiles.get(profile, {}) if profile else {}
    return {kind: start + durations[kind] for kind in REPORTING_DEADLINES if kind in durations}


def _sla_due(incident: Incident) -> dict[str, dt.datetime]:
    durations = deadline_rules().slas[int(incident.priority)]
    return {kind: incident.reported_at + durations[kind] for kind in SLA_DEADLINES}


def create_deadlines(incident: Incident, now: dt.datetime) -> list[Deadline]:
    met_on_report = deadline_rules().met_on_report
    due = _reporting_due(incident, incident.reporting_profile) | _sla_due(incident)
    return Deadline.objects.bulk_create(
        [
            Deadline(
                incident=incident,
                kind=kind,
                due_at=due_at,
                met_at=now if kind in met_on_report and kind in REPORTING_DEADLINES else None,
            )
            for kind, due_at in due.items()
        ]
    )


def reschedule(incident: Incident) -> dict[str, list[str]]:
    """After a change of priority, profile or detection time: move the unmet deadlines
    to their new due dates (keeping any paused time), create missing ones and drop
    unmet reporting deadlines the profile no longer has. Returns {kind: [old, new]}."""
    due = _reporting_due(incident, incident.reporting_profile) | _sla_due(incident)
    existing = {d.kind: d for d in Deadline.objects.select_for_update().filter(incident=incident)}
    changes: dict[str, list[str]] = {}
    for kind, deadline in existing.items():
        if deadline.met_at is not None:
            continue
        if kind not in due:
            deadline.delete()
            changes[kind] = [deadline.due_at.isoformat(), ""]
            continue
        new_due = due[kind] + deadline.paused_for
        if new_due != deadline.due_at:
            changes[kind] = [deadline.due_at.isoformat(), new_due.isoformat()]
            deadline.due_at = new_due
            deadline.save(update_fields=["due_at"])
    for kind, due_at in due.items():
        if kind not in existing:
            Deadline.objects.create(incident=incident, kind=kind, due_at=due_at)
            changes[kind] = ["", due_at.isoformat()]
    return changes


def on_status(incident: Incident, old: str, new: str, now: dt.datetime) -> None:
    """Meet, pause and resume deadlines as the status moves from ``old`` to ``new``."""
    rules = deadline_rules()
    for deadline in Deadline.objects.select_for_update().filter(incident=incident):
        fields: list[str] = []
        if deadline.met_at is None and (
            (deadline.kind == DeadlineKind.ACKNOWLEDGE and old == Status.NEW)
            or (deadline.kind == DeadlineKind.RESOLVE and new == Status.RESOLVED)
        ):
            deadline.met_at = now
            fields.append("met_at")
        pause = rules.pauses(new, deadline.kind)
        if pause and deadline.paused_at is None and deadline.met_at is None:
            deadline.paused_at = now
            fields.append("paused_at")
        elif not pause and deadline.paused_at is not None:
            waited = now - deadline.paused_at
            deadline.paused_for += waited
            deadline.due_at += waited
            deadline.paused_at = None
            fields += ["paused_for", "due_at", "paused_at"]
        if fields:
            deadline.save(update_fields=fields)


def meet(incident: Incident, kind: str, now: dt.datetime) -> bool:
    """Mark one deadline met; False when it was met already or does not exist."""
    return bool(
        Deadline.objects.filter(incident=incident, kind=kind, met_at__isnull=True).update(
            met_at=now
        )
    )
