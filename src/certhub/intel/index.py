"""Reading and writing the sightings table in bulk (the hot path: feeds, batch
correlation, the benchmark). Plain SQL on the same connection the ORM uses: rows go in
with COPY on PostgreSQL and executemany on SQLite, and lookups are single index probes,
so neither pays the ORM's per-row cost. The visibility rules are applied above, in the
selectors, on the few rows a lookup returns.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from django.db import connection

from certhub.intel.correlation import Probe, RangeProbe
from certhub.intel.models import IndexedPrefix, IndicatorFlag, Sighting

TABLE = Sighting._meta.db_table
COLUMNS = (
    '"key"',
    "kind",
    "value",
    "ip_key",
    "prefix_len",
    "observable_id",
    "incident_id",
    "organization_id",
    "sector_id",
    "day",
    "events",
)
# SQLite allows 32766 bound variables per statement; keep well below.
_CHUNK = 10_000

RowValues = tuple[
    int, str, str, str | None, int | None, int | None, int | None, int | None, int | None,
    dt.date, int,
]  # fmt: skip


class Hit(NamedTuple):
    """A sighting a lookup found (the columns the selectors need)."""

    id: int
    key: int
    kind: str
    value: str
    observable_id: int | None
    incident_id: int | None
    organization_id: int | None
    sector_id: int | None
    day: dt.date
    events: int

    @property
    def from_feed(self) -> bool:
        return self.observable_id is None


# Table and column names are ours; values always go as parameters.
_COLUMNS_READ = 'id, "key", kind, value, observable_id, incident_id, organization_id, sector_id'
_SELECT = f"SELECT {_COLUMNS_READ}, day, events FROM {TABLE}"  # noqa: S608


def _day(value: object) -> dt.date:
    # SQLite hands back the ISO text of a DATE column to a plain cursor.
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def _hit(row: Sequence[Any]) -> Hit:
    if type(row[8]) is dt.date:  # as the database driver gives it, nearly always
        return Hit._make(row)
    return Hit(row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7], _day(row[8]), row[9])


def insert_rows(rows: Iterable[RowValues]) -> int:
    """Append sightings: COPY on PostgreSQL, executemany on SQLite. Returns the count."""
    count = 0
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            sql = f"COPY {TABLE} ({', '.join(COLUMNS)}) FROM STDIN"
            with cursor.cursor.copy(sql) as copy:  # psycopg 3
                for row in rows:
                    copy.write_row(row)
                    count += 1
            return count
        marks = ", ".join("%s" for _ in COLUMNS)
        sql = f"INSERT INTO {TABLE} ({', '.join(COLUMNS)}) VALUES ({marks})"  # noqa: S608
        batch: list[RowValues] = []
        for row in rows:
            batch.append(row)
            if len(batch) >= _CHUNK:
                cursor.executemany(sql, batch)
                count += len(batch)
                batch = []
        if batch:
            cursor.executemany(sql, batch)
            count += len(batch)
    return count


def _in_chunks(keys: Sequence[int]) -> Iterable[Sequence[int]]:
    for start in range(0, len(keys), _CHUNK):
        yield keys[start : start + _CHUNK]


def hits_for_keys(keys: Iterable[int], *, exclude_incident: int | None = None) -> list[Hit]:
    """Every sighting stored under any of ``keys``: one index probe per key (one
    statement per ten thousand keys; an array parameter on PostgreSQL)."""
    hits = [_hit(row) for row in _chunked_rows(_SELECT + ' WHERE "key" {}', keys)]
    if exclude_incident is not None:
        hits = [h for h in hits if h.incident_id != exclude_incident]
    return hits


@dataclass
class Summary:
    """What the index holds for one key, read from its counting index alone: the
    organizations its feed events were routed to, the incidents holding it and its
    feed events."""

    organization_ids: set[int] = field(default_factory=set)
    incident_ids: set[int] = field(default_factory=set)
    feed_events: int = 0


_SUMMARY = (
    f'SELECT "key", organization_id, incident_id, SUM(events) FROM {TABLE} '  # noqa: S608
    'WHERE "key" {} GROUP BY "key", organization_id, incident_id'
)


def summaries(keys: Iterable[int]) -> dict[int, Summary]:
    """Per key, its organizations, incidents and feed events: one grouped
    read of the counting index per ten thousand keys (the table is not touched), so a
    batch of a hundred thousand values is counted in about a second at ten million
    sightings. Keys not in the index are absent. RED is not looked at here: this is for
    flagging, not for showing (the selectors apply the visibility rules)."""
    found: dict[int, Summary] = {}
    rows = _chunked_rows(_SUMMARY, keys)
    for key, organization_id, incident_id, events in rows:
        summary = found.get(key)
        if summary is None:
            summary = found[key] = Summary()
        if organization_id is not None:
            summary.organization_ids.add(organization_id)
        if incident_id is not None:
            summary.incident_ids.add(incident_id)
        summary.feed_events += events or 0
    return found


def _chunked_rows(sql: str, keys: Iterable[int]) -> list[Sequence[Any]]:
    """Rows of ``sql`` (its one ``{}`` is the key condition) for all ``keys``, one
    statement per ten thousand keys. On PostgreSQL too: a bounded array keeps the plan
    an index(-only) scan; a batch's hundred thousand keys in one array make the
    planner read the whole table or the whole index instead."""
    unique = sorted(set(keys))
    rows: list[Sequence[Any]] = []
    with connection.cursor() as cursor:
        for chunk in _in_chunks(unique):
            if connection.vendor == "postgresql":
                cursor.execute(sql.format("= ANY(%s)"), [list(chunk)])
            else:
                cursor.execute(sql.format(f"IN ({', '.join('%s' for _ in chunk)})"), list(chunk))
            rows += cursor.fetchall()
    return rows


_NAMES = (
    f'SELECT "key", kind, value FROM {TABLE} WHERE id IN '  # noqa: S608
    f'(SELECT MIN(id) FROM {TABLE} WHERE "key" {{}} GROUP BY "key")'
)


def names_of(keys: Iterable[int]) -> dict[int, tuple[str, str]]:
    """The (kind, value) stored under each key (one row read per key)."""
    return {row[0]: (row[1], row[2]) for row in _chunked_rows(_NAMES, keys)}


_INCIDENT_ROWS = (
    f'SELECT "key", observable_id FROM {TABLE} '  # noqa: S608
    'WHERE "key" {} AND incident_id IS NOT NULL'
)


def incident_rows_of(keys: Iterable[int]) -> list[tuple[int, int]]:
    """(key, observable id) of the incident sightings of ``keys``."""
    return [(row[0], row[1]) for row in _chunked_rows(_INCIDENT_ROWS, keys)]


_FEED_DAYS = (
    f'SELECT id, "key", organization_id, day FROM {TABLE} '  # noqa: S608
    'WHERE "key" {} AND incident_id IS NULL AND day {}'
)


def feed_rows_on(
    keys: Iterable[int], days: Iterable[dt.date]
) -> list[tuple[int, int, int | None, dt.date]]:
    """(id, key, organization id, day) of the feed sightings of ``keys`` on ``days``:
    the rows a new batch of the same days grows."""
    unique = sorted(set(keys))
    wanted = sorted(set(days))
    if not unique or not wanted:
        return []
    out: list[tuple[int, int, int | None, dt.date]] = []
    day_marks = ", ".join("%s" for _ in wanted)
    with connection.cursor() as cursor:
        for chunk in _in_chunks(unique):
            params: list[Any]
            if connection.vendor == "postgresql":
                sql, params = _FEED_DAYS.format("= ANY(%s)", "= ANY(%s)"), [list(chunk), wanted]
            else:
                sql = _FEED_DAYS.format(
                    f"IN ({', '.join('%s' for _ in chunk)})", f"IN ({day_marks})"
                )
                params = [*chunk, *(d.isoformat() for d in wanted)]
            cursor.execute(sql, params)
            out += [(r[0], r[1], r[2], _day(r[3])) for r in cursor.fetchall()]
    return out


def hits_in_range(probe: RangeProbe, *, limit: int) -> list[Hit]:
    """Addresses and networks whose address key lies inside the probe's network (the
    caller checks each row with ``correlation.inside``): one range scan, capped."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"{_SELECT} WHERE ip_key >= %s AND ip_key <= %s ORDER BY ip_key LIMIT %s",
            [probe.start, probe.end, limit],
        )
        return [_hit(row) for row in cursor.fetchall()]


_PREFIXES = f"SELECT version, prefix_len FROM {IndexedPrefix._meta.db_table}"  # noqa: S608


# The stored prefix lengths change rarely (a new one when a network of a new length is
# first indexed): each process keeps them for a few seconds instead of asking the
# database at every lookup. The process that notes a new length forgets its copy at once.
PREFIX_CACHE_SECONDS = 5.0
_prefix_cache: tuple[float, list[tuple[int, int]]] | None = None


def stored_prefixes() -> list[tuple[int, int]]:
    """The (IP version, prefix length) pairs of the networks in the index."""
    global _prefix_cache
    now = time.monotonic()
    if _prefix_cache is not None and now - _prefix_cache[0] < PREFIX_CACHE_SECONDS:
        return _prefix_cache[1]
    with connection.cursor() as cursor:
        cursor.execute(_PREFIXES)
        found = [(int(v), int(p)) for v, p in cursor.fetchall()]
    _prefix_cache = (now, found)
    return found


def note_prefixes(pairs: Iterable[tuple[int, int]]) -> None:
    global _prefix_cache
    new = set(pairs)
    if not new:
        return
    IndexedPrefix.objects.bulk_create(
        [IndexedPrefix(version=v, prefix_len=p) for v, p in new], ignore_conflicts=True
    )
    if _prefix_cache is not None and not new <= set(_prefix_cache[1]):
        _prefix_cache = None


def flags_for(keys: Iterable[int]) -> dict[int, IndicatorFlag]:
    unique = sorted(set(keys))
    found: dict[int, IndicatorFlag] = {}
    for chunk in _in_chunks(unique):
        found.update({f.key: f for f in IndicatorFlag.objects.filter(key__in=list(chunk))})
    return found


# The probed keys flagged common, found once per statement (not once per row read).
_NOT_COMMON = (
    f'"key" NOT IN (SELECT f."key" FROM {IndicatorFlag._meta.db_table} f '  # noqa: S608
    'WHERE f."key" {} AND f.common_since IS NOT NULL)'
)


def lookup(probes: Sequence[Probe]) -> list[Hit]:
    """The sightings under the probes' keys, leaving out keys flagged common: one
    statement (one round trip), whatever the number of probes."""
    keys = sorted({p.hash for p in probes})
    if not keys:
        return []
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f'{_SELECT} WHERE "key" = ANY(%s) AND {_NOT_COMMON.format("= ANY(%s)")}',
                [keys, keys],
            )
            return [_hit(row) for row in cursor.fetchall()]
        hits: list[Hit] = []
        for chunk in _in_chunks(keys):
            marks = f"IN ({', '.join('%s' for _ in chunk)})"
            cursor.execute(
                f'{_SELECT} WHERE "key" {marks} AND {_NOT_COMMON.format(marks)}', [*chunk, *chunk]
            )
            hits += [_hit(row) for row in cursor.fetchall()]
        return hits
