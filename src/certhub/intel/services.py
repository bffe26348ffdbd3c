"""Every write of the correlation index: indexing incident observables and feed events,
and flagging values widespread or common (DESIGN.md sections 4 and 6).

- Observables are indexed when the incidents app says they were added (its
  ``observables_added`` signal, after commit); they leave the index with their
  observable (the foreign key cascades).
- Feed events are indexed per ingest run (feeds' ``events_loaded`` signal enqueues
  ``tasks.index_feed_run``), aggregated per value, organization and day: the index
  holds how many events of that organization carried the value that day, not a row
  per event.
- After each write the touched values are counted. A value seen across more than
  CERTHUB_INTEL_WIDESPREAD_ORGS organizations becomes widespread: the national team is
  alerted once and the incidents holding it are escalated by the rule "widespread".
  A value in more than CERTHUB_INTEL_COMMON_THRESHOLD incidents or organizations becomes
  common and stops linking incidents (MISP caps a value's correlations the same way).
  TLP:RED observables and incidents never count: their existence stays with their
  named recipients.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from certhub.audit import services as audit
from certhub.core.errors import Invalid
from certhub.feeds.models import IngestRun
from certhub.feeds.selectors import events_of_run
from certhub.incidents import services as incident_services
from certhub.incidents.choices import ObservableKind
from certhub.incidents.models import Incident, Observable
from certhub.incidents.observables import Indicator
from certhub.intel import index
from certhub.intel.correlation import Entry, KeyKind, canonical, entries_for
from certhub.intel.models import IndexedRun, IndicatorFlag, Sighting
from certhub.notify.choices import NotificationKind
from certhub.notify.services import queue_mail, users_who_want
from certhub.tenancy.choices import NotificationKind as ContactKind
from certhub.tenancy.models import Contact, Membership, Organization, Team
from certhub.tenancy.selectors import national_team
from certhub.tenancy.tlp import TLP, strictest
from certhub.tenancy.visibility import TEAM_WRITE_ROLES

DEFAULTS: dict[str, Any] = {
    # A value seen across MORE than this many organizations is widespread.
    "CERTHUB_INTEL_WIDESPREAD_ORGS": 3,
    # A value in more than this many incidents, or organizations, is common: it is
    # counted but no longer links incidents (MISP's default cap is 20 correlations).
    "CERTHUB_INTEL_COMMON_THRESHOLD": 20,
    # Most addresses and networks a network lookup reads from inside the network.
    "CERTHUB_INTEL_RANGE_LIMIT": 1000,
}


def setting(name: str) -> Any:
    return getattr(settings, name, DEFAULTS[name])


def _entries(indicator: Indicator) -> list[Entry]:
    try:
        return entries_for(indicator)
    except (ValueError, Invalid):
        return []


def _prefixes(entries: Iterable[Entry]) -> set[tuple[int, int]]:
    return {
        (6 if ":" in e.value else 4, e.prefix_len)
        for e in entries
        if e.kind == KeyKind.CIDR and e.prefix_len is not None
    }


# --- Incident observables --------------------------------------------------------------


@transaction.atomic
def index_observables(*, observable_ids: Sequence[int]) -> int:
    """Put observables into the index (again: their old rows are replaced), then count
    the values they carry. Returns the rows written."""
    ids = sorted(set(observable_ids))
    if not ids:
        return 0
    Sighting.objects.filter(observable_id__in=ids).delete()
    rows: list[index.RowValues] = []
    entries: list[Entry] = []
    found = Observable.objects.filter(pk__in=ids).values_list(
        "pk", "kind", "value", "incident_id", "created_at"
    )
    for pk, kind, value, incident_id, created_at in found:
        for entry in _entries(Indicator(kind, value)):
            entries.append(entry)
            rows.append(
                (
                    entry.hash,
                    entry.kind,
                    entry.value,
                    entry.ip_key,
                    entry.prefix_len,
                    pk,
                    incident_id,
                    None,
                    None,
                    created_at.date(),
                    0,
                )
            )
    index.note_prefixes(_prefixes(entries))
    written = index.insert_rows(rows)
    refresh_flags(keys={e.hash for e in entries})
    return written


def index_all_observables() -> int:
    """Rebuild the incident side of the index (after a restore, or on first install)."""
    written = 0
    ids = list(Observable.objects.order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), 5000):
        written += index_observables(observable_ids=ids[start : start + 5000])
    return written


# --- Feed events -----------------------------------------------------------------------

# The indicator fields of a feed event, and the observable kind each holds.
FEED_FIELDS = (
    ("source_ip", None),
    ("destination_ip", None),
    ("source_fqdn", ObservableKind.DOMAIN),
    ("destination_fqdn", ObservableKind.DOMAIN),
    ("source_url", ObservableKind.URL),
    ("destination_url", ObservableKind.URL),
)


def _feed_entries(field_kind: str | None, raw: str) -> list[Entry]:
    try:
        if field_kind is None:
            kind = "ipv6" if ":" in raw else "ipv4"
            return entries_for(canonical(kind, raw))
        return entries_for(canonical(field_kind, raw))
    except (ValueError, Invalid):
        return []


@dataclass
class _Aggregate:
    entry: Entry
    sector_id: int | None
    events: int = 0


def aggregate_events(
    rows: Iterable[Sequence[Any]],
) -> dict[tuple[int, int | None, dt.date], _Aggregate]:
    """Feed event rows (the FEED_FIELDS values, then organization id, sector id and day)
    -> one aggregate per (key, organization, day) with the number of events."""
    cache: dict[tuple[str | None, str], list[Entry]] = {}
    found: dict[tuple[int, int | None, dt.date], _Aggregate] = {}
    width = len(FEED_FIELDS)
    for row in rows:
        organization_id, sector_id, day = row[width], row[width + 1], row[width + 2]
        seen: set[int] = set()
        for (_name, field_kind), raw in zip(FEED_FIELDS, row[:width], strict=True):
            if not raw:
                continue
            entries = cache.get((field_kind, raw))
            if entries is None:
                entries = cache[(field_kind, raw)] = _feed_entries(field_kind, raw)
            for entry in entries:
                if entry.hash in seen:
                    continue
                seen.add(entry.hash)
                slot = (entry.hash, organization_id, day)
                aggregate = found.get(slot)
                if aggregate is None:
                    aggregate = found[slot] = _Aggregate(entry, sector_id)
                aggregate.events += 1
    return found


def index_feed_aggregates(
    found: dict[tuple[int, int | None, dt.date], _Aggregate],
) -> tuple[int, list[IndicatorFlag]]:
    """Add aggregates to the index: a (value, organization, day) already there grows its
    event count; the others become new rows. Then count the touched values and flag
    those that became widespread or common. Returns the rows written or grown, and the
    flags that became widespread or common."""
    if not found:
        return 0, []
    keys = {key for key, _org, _day in found}
    existing = {
        (key, organization_id, day): row_id
        for row_id, key, organization_id, day in index.feed_rows_on(
            keys, {day for _key, _org, day in found}
        )
    }
    grow = [(found[slot].events, row_id) for slot, row_id in existing.items() if slot in found]
    if grow:
        with connection.cursor() as cursor:
            cursor.executemany(
                f"UPDATE {index.TABLE} SET events = events + %s WHERE id = %s",  # noqa: S608
                grow,
            )
    rows = (
        (key, a.entry.kind, a.entry.value, a.entry.ip_key, a.entry.prefix_len, None, None,
         organization_id, a.sector_id, day, a.events)
        for (key, organization_id, day), a in found.items()
        if (key, organization_id, day) not in existing
    )  # fmt: skip
    index.note_prefixes(_prefixes(a.entry for a in found.values()))
    written = index.insert_rows(rows) + len(grow)
    return written, refresh_flags(keys=keys)


@transaction.atomic
def index_feed_run(*, run_id: int, days: Sequence[dt.date] = ()) -> IndexedRun | None:
    """Index the events of one done ingest run, once. Returns None when the run does
    not exist or was indexed before."""
    run = IngestRun.objects.filter(pk=run_id, status=IngestRun.Status.DONE).first()
    if run is None or IndexedRun.objects.filter(run_id=run_id).exists():
        return None
    fields = [name for name, _kind in FEED_FIELDS] + ["organization_id", "sector_id", "day"]
    events = events_of_run(run, list(days) or None).values_list(*fields)
    counted = 0

    def counting(rows: Iterable[Sequence[Any]]) -> Iterable[Sequence[Any]]:
        nonlocal counted
        for row in rows:
            counted += 1
            yield row

    found = aggregate_events(counting(events.iterator(chunk_size=20_000)))
    written, _flagged = index_feed_aggregates(found)
    done = IndexedRun.objects.create(run_id=run_id, events=counted, sightings=written)
    audit.record(
        actor=None,
        action="intel.feed_run_indexed",
        obj=done,
        changes={"run": run_id, "events": counted, "sightings": written},
    )
    return done


def index_pending_runs() -> int:
    """Index every done ingest run not indexed yet. Returns how many were indexed."""
    done = set(IndexedRun.objects.values_list("run_id", flat=True))
    pending = IngestRun.objects.filter(status=IngestRun.Status.DONE).values_list("pk", flat=True)
    return sum(1 for run_id in pending if run_id not in done and index_feed_run(run_id=run_id))


# --- Widespread and common values ------------------------------------------------------


@dataclass
class ValueCount:
    """What the index holds for one value, RED left out."""

    key: int
    kind: str
    value: str
    incident_ids: set[int]
    organization_ids: set[int]
    feed_events: int
    tlps: set[str]


def count_values(
    keys: Iterable[int], *, summaries: dict[int, index.Summary] | None = None
) -> dict[int, ValueCount]:
    """Exact counts for a few values: incidents and organizations (the reporting and
    affected organizations of the incidents, and the feed events' organizations),
    TLP:RED observables and incidents left out. The feed side is read grouped from the
    counting index (``summaries``: the caller's read of it, when it has one); only the
    incident side's rows are read whole."""
    unique = set(keys)
    if summaries is None:
        summaries = index.summaries(unique)
    else:
        summaries = {key: s for key, s in summaries.items() if key in unique}
    names = index.names_of(summaries)
    counts = {
        key: ValueCount(key, *names[key], set(), set(summary.organization_ids), 0, set())
        for key, summary in summaries.items()
        if key in names
    }
    incident_rows = index.incident_rows_of([k for k, s in summaries.items() if s.incident_ids])
    observable_ids = {observable_id for _key, observable_id in incident_rows}
    observables = {
        pk: (tlp, incident_id, incident_tlp, reporting_org_id)
        for pk, tlp, incident_id, incident_tlp, reporting_org_id in Observable.objects.filter(
            pk__in=sorted(observable_ids)
        ).values_list("pk", "tlp", "incident_id", "incident__tlp", "incident__reporting_org_id")
    }
    incident_ids = {v[1] for v in observables.values()}
    affected: dict[int, set[int]] = defaultdict(set)
    for incident_id, org_id in Incident.affected_orgs.through.objects.filter(
        incident_id__in=sorted(incident_ids)
    ).values_list("incident_id", "organization_id"):
        affected[incident_id].add(org_id)
    for key, summary in summaries.items():
        if key in counts:
            counts[key].feed_events = summary.feed_events
    for key, observable_id in incident_rows:
        count = counts.get(key)
        seen = observables.get(observable_id)
        if count is None or seen is None:
            continue
        tlp, incident_id, incident_tlp, reporting_org_id = seen
        if TLP.RED in (tlp, incident_tlp):
            continue
        count.incident_ids.add(incident_id)
        count.tlps.add(tlp)
        if reporting_org_id:
            count.organization_ids.add(reporting_org_id)
        count.organization_ids |= affected[incident_id]
    return counts


def refresh_flags(*, keys: Iterable[int]) -> list[IndicatorFlag]:
    """Count the touched values and flag those now widespread or common. Cheap for big
    feed batches: only values with an incident, or with more feed organizations than a
    threshold, are counted exactly; flags are written only when they change; the
    values that became widespread together go to the national team in one message.
    Returns the flags that became widespread or common."""
    keys = sorted(set(keys))
    if not keys:
        return []
    widespread_orgs = int(setting("CERTHUB_INTEL_WIDESPREAD_ORGS"))
    common = int(setting("CERTHUB_INTEL_COMMON_THRESHOLD"))
    least = min(widespread_orgs, common)
    summaries = index.summaries(keys)
    candidates = [
        key
        for key, summary in summaries.items()
        if summary.incident_ids or len(summary.organization_ids) > least
    ]
    if not candidates:
        return []
    flags = index.flags_for(candidates)
    counts = count_values(candidates, summaries=summaries)
    now = timezone.now()
    new_flags: list[IndicatorFlag] = []
    changed_counts: list[IndicatorFlag] = []
    want_widespread: list[int] = []
    want_common: list[int] = []
    for key, count in counts.items():
        is_widespread = len(count.organization_ids) > widespread_orgs
        is_common = len(count.incident_ids) > common or len(count.organization_ids) > common
        flag = flags.get(key)
        if flag is None:
            if is_widespread or is_common:
                new_flags.append(
                    IndicatorFlag(
                        key=key,
                        kind=count.kind,
                        value=count.value,
                        organizations=len(count.organization_ids),
                        incidents=len(count.incident_ids),
                    )
                )
        elif (flag.organizations, flag.incidents) != (
            len(count.organization_ids),
            len(count.incident_ids),
        ):
            flag.organizations = len(count.organization_ids)
            flag.incidents = len(count.incident_ids)
            flag.updated_at = now  # bulk_update does not touch auto_now fields
            changed_counts.append(flag)
        if is_widespread and (flag is None or flag.widespread_since is None):
            want_widespread.append(key)
        if is_common and (flag is None or flag.common_since is None):
            want_common.append(key)
    IndicatorFlag.objects.bulk_create(new_flags, ignore_conflicts=True, batch_size=2000)
    IndicatorFlag.objects.bulk_update(
        changed_counts, ["organizations", "incidents", "updated_at"], batch_size=2000
    )
    # A conditional update: when two workers flag a value at once, one wins the alert.
    newly_widespread = _set_widespread(want_widespread, now)
    if want_common:
        IndicatorFlag.objects.filter(key__in=want_common, common_since__isnull=True).update(
            common_since=now
        )
    flagged = list(IndicatorFlag.objects.filter(key__in=sorted({*newly_widespread, *want_common})))
    if flagged:
        audit.record(
            actor=None,
            action="intel.values_flagged",
            object_type="intel.indicatorflag",
            object_repr=f"{len(flagged)} values",
            changes={
                "widespread": [f"{f.kind}:{f.value}" for f in flagged if f.key in newly_widespread][
                    :100
                ],
                "common": [f"{f.kind}:{f.value}" for f in flagged if f.key in want_common][:100],
            },
        )
    widespread_now = [
        counts[key]
        for key in counts
        if key in newly_widespread or (flags.get(key) and flags[key].widespread)
    ]
    _escalate_widespread(widespread_now)
    if newly_widespread:
        _alert_national_team([counts[key] for key in newly_widespread])
    return flagged


def _set_widespread(keys: Sequence[int], now: dt.datetime) -> list[int]:
    """Mark the flags of ``keys`` widespread where they were not yet; returns the keys
    this call marked (UPDATE ... RETURNING: one statement per ten thousand keys)."""
    table = IndicatorFlag._meta.db_table
    stamp = connection.ops.adapt_datetimefield_value(now)
    marked: list[int] = []
    with connection.cursor() as cursor:
        for chunk in index._in_chunks(sorted(keys)):
            marks = ", ".join("%s" for _ in chunk)
            cursor.execute(
                f"UPDATE {table} SET widespread_since = %s, updated_at = %s "  # noqa: S608
                f'WHERE widespread_since IS NULL AND "key" IN ({marks}) RETURNING "key"',
                [stamp, stamp, *chunk],
            )
            marked += [int(row[0]) for row in cursor.fetchall()]
    return marked


def _escalate_widespread(counts: list[ValueCount]) -> None:
    """The rule "widespread" for the incidents holding widespread values that it has
    not fired on yet (one query to find them)."""
    incident_ids = sorted({pk for count in counts for pk in count.incident_ids})
    if not incident_ids:
        return
    fired = {
        pk
        for pk, rules in Incident.objects.filter(pk__in=incident_ids).values_list(
            "pk", "escalation_rules_fired"
        )
        if "widespread" in (rules or [])
    }
    # The responsible teams of every organization involved, read once for all values.
    team_path = dict(
        Organization.objects.filter(
            pk__in=sorted({o for count in counts for o in count.organization_ids})
        ).values_list("pk", "responsible_team__path")
    )
    for count in counts:
        pending = sorted(count.incident_ids - fired)
        if pending:
            paths = [team_path[o] for o in sorted(count.organization_ids) if o in team_path]
            incident_services.apply_widespread_rule(incident_ids=pending, team_paths=paths)
            fired.update(pending)


def _national_addresses(team: Team) -> list[str]:
    contacts = [
        c.email
        for c in Contact.objects.filter(team=team)
        if {ContactKind.ESCALATIONS, ContactKind.INCIDENTS} & set(c.notifications or [])
    ]
    members = [
        m.user
        for m in Membership.objects.filter(team=team, role__in=TEAM_WRITE_ROLES).select_related(
            "user"
        )
    ]
    return contacts + [u.email for u in users_who_want(members, NotificationKind.INCIDENT_MOVED)]


# Most values listed in one alert (the rest are on the indicator pages).
ALERT_LIST = 50


def _alert_national_team(counts: list[ValueCount]) -> None:
    """One message to the national team for the values that became widespread together;
    each value is in exactly one message ever (its flag's widespread_since is set once,
    by one worker), and the dedup key makes a retried task send nothing twice."""
    team = national_team()
    if team is None or not counts:
        return
    sector_of = dict(
        Organization.objects.filter(
            pk__in=sorted({o for c in counts for o in c.organization_ids})
        ).values_list("pk", "sector_id")
    )
    base = getattr(settings, "CERTHUB_BASE_URL", "").rstrip("/")
    lines = []
    for count in counts[:ALERT_LIST]:
        query = urlencode({"kind": count.kind, "value": count.value})
        lines.append(
            _(
                "%(value)s (%(kind)s): seen across %(orgs)d organizations in %(sectors)d "
                "sectors, in %(incidents)d incidents and %(events)d feed events.\n  %(link)s"
            )
            % {
                "value": count.value,
                "kind": KeyKind(count.kind).label,
                "orgs": len(count.organization_ids),
                "sectors": len({sector_of.get(o) for o in count.organization_ids}),
                "incidents": len(count.incident_ids),
                "events": count.feed_events,
                "link": f"{base}{reverse('intel:value')}?{query}",
            }
        )
    if len(counts) > ALERT_LIST:
        lines.append(_("... and %(more)d more.") % {"more": len(counts) - ALERT_LIST})
    body = (
        _("These indicators are now seen across more than %(limit)d organizations:")
        % {"limit": int(setting("CERTHUB_INTEL_WIDESPREAD_ORGS"))}
        + "\n\n"
        + "\n".join(lines)
        + "\n\n"
        + _('The incidents holding them were escalated by the rule "widespread".')
    )
    if len(counts) == 1:
        subject = _("Widespread indicator: %(value)s") % {"value": counts[0].value[:200]}
    else:
        subject = _("Widespread indicators: %(count)d values") % {"count": len(counts)}
    keys = ",".join(str(c.key) for c in sorted(counts, key=lambda c: c.key))
    queue_mail(
        to=_national_addresses(team),
        subject=subject,
        body=body,
        tlp=strictest(TLP.AMBER, *(t for c in counts for t in c.tlps)),
        kind="intel_widespread",
        dedup_key="intel.widespread:" + hashlib.sha256(keys.encode()).hexdigest(),
    )
