"""Where feed data lives: the original files, content-addressed on disk, and the bulk
writers that put events into the main database (SQLite: ``executemany`` on the raw
connection; PostgreSQL: ``COPY`` into a staging table, then one ``INSERT ... ON
CONFLICT``). Both merge re-sightings into the stored event in the database, so
deduplication holds within a file, across files and across processes."""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
from django.conf import settings
from django.db import connection

from certhub.feeds.models import Event

BLOCK = 1 << 20


def feeds_root() -> Path:
    root = Path(settings.MEDIA_ROOT) / "feeds"
    root.mkdir(parents=True, exist_ok=True)
    return root


@dataclass(frozen=True)
class StoredFile:
    sha256: str
    size: int
    lines: int
    path: Path


def store_original(source: Path) -> StoredFile:
    """Copy ``source`` into the content-addressed store (once) while hashing it and
    counting its lines; returns where the kept copy is. The copy is what gets parsed,
    so the inbox file may be moved away meanwhile."""
    root = feeds_root()
    digest = hashlib.sha256()
    size = lines = 0
    last = b"\n"
    handle, temp_name = tempfile.mkstemp(dir=root, prefix=".incoming-")
    try:
        with os.fdopen(handle, "wb") as out, source.open("rb") as src:
            while block := src.read(BLOCK):
                digest.update(block)
                out.write(block)
                size += len(block)
                lines += block.count(b"\n")
                last = block[-1:]
        if last != b"\n":
            lines += 1
        sha = digest.hexdigest()
        target = root / sha[:2] / sha
        target.parent.mkdir(exist_ok=True)
        if target.exists():
            os.unlink(temp_name)
        else:
            os.chmod(temp_name, 0o440)
            os.replace(temp_name, target)
    except BaseException:
        if os.path.exists(temp_name):
            os.unlink(temp_name)
        raise
    return StoredFile(sha256=sha, size=size, lines=lines, path=target)


def stored_path(sha256: str) -> Path:
    return feeds_root() / sha256[:2] / sha256


# --- Bulk writers -----------------------------------------------------------------------

TABLE = Event._meta.db_table
# Columns whose value the database turns from text (datetimes, dates).
DATETIME_COLUMNS = ("time_source", "last_seen", "time_observation")
DATE_COLUMNS = ("day",)


@dataclass(frozen=True)
class Written:
    inserted: int  # new events
    unrouted: int  # of which without an organization


def present_columns(frame: pl.DataFrame) -> pl.DataFrame:
    """Leave out the columns no row of the chunk carries: they are NULL (or their
    default) anyway, and every bound value costs time on the bulk path."""
    return frame.select([name for name in frame.columns if frame[name].null_count() < len(frame)])


def _literal(value: object) -> str | None:
    """``value`` as an SQLite literal, or None when it is not a plain int or str."""
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str) and "\x00" not in value:  # a NUL cannot be in SQL text
        # SQLite string literals have no backslash escapes: doubling quotes is all.
        return "'" + value.replace("'", "''") + "'"
    return None


class BulkWriter:
    """Writes one chunk of deduplicated event rows (one row per identity and day) and
    says how many were new. Must run inside the file's transaction."""

    def write(self, frame: pl.DataFrame) -> Written:  # pragma: no cover - interface
        raise NotImplementedError

    def close(self) -> None:
        return None


class SQLiteWriter(BulkWriter):
    SLICE_ROWS = 10_000

    def __init__(self) -> None:
        connection.ensure_connection()
        self.raw: Any = connection.connection
        # A bigger page cache for the duration: index pages of a day's events stay hot.
        self.previous_cache = self.raw.execute("PRAGMA cache_size").fetchone()[0]
        self.raw.execute("PRAGMA cache_size=-131072")

    def write(self, frame: pl.DataFrame) -> Written:
        if frame.is_empty():
            return Written(0, 0)
        frame = present_columns(frame)
        datetime_text = "%Y-%m-%d %H:%M:%S"
        frame = frame.with_columns(
            # Django's own SQLite text form, so ORM lookups compare equal.
            *[
                pl.when(pl.col(c).dt.microsecond() == 0)
                .then(pl.col(c).dt.strftime(datetime_text))
                .otherwise(pl.col(c).dt.strftime(datetime_text + ".%6f"))
                .alias(c)
                for c in DATETIME_COLUMNS
            ],
            *[pl.col(c).dt.strftime("%Y-%m-%d").alias(c) for c in DATE_COLUMNS],
        )
        # A column with one value for the whole chunk (the file, the feed, the
        # classification, the observation time, ...) goes into the statement as a
        # literal: binding it a million times is most of the Python-side cost.
        constants = {
            name: frame[name][0]
            for name in frame.columns
            # ``line`` always varies (one bound value per row, also in a one-row chunk).
            if name != "line"
            and frame[name].n_unique() == 1
            and _literal(frame[name][0]) is not None
        }
        varying = [name for name in frame.columns if name not in constants]
        cursor = self.raw.cursor()
        before = cursor.execute(f"SELECT coalesce(max(id), 0) FROM {TABLE}").fetchone()[0]  # noqa: S608
        values = [*("?" * len(varying)), *(str(_literal(v)) for v in constants.values())]
        sql = (
            f"INSERT INTO {TABLE} ({', '.join([*varying, *constants])}) "  # noqa: S608 - column names are ours, literals quoted
            f"VALUES ({', '.join(values)}) "
            "ON CONFLICT(day, identity_hash) DO UPDATE SET count = count + excluded.count, "
            "last_seen = max(last_seen, excluded.last_seen)"
        )
        rows = frame.select(varying)
        # Slices keep the Python objects of a chunk few: memory stays flat.
        for piece in rows.iter_slices(self.SLICE_ROWS):
            cursor.executemany(
                sql, zip(*(series.to_list() for series in piece.iter_columns()), strict=True)
            )
        inserted, unrouted = cursor.execute(
            f"SELECT count(*), coalesce(sum(organization_id IS NULL), 0) FROM {TABLE} WHERE id > ?",  # noqa: S608
            (before,),
        ).fetchone()
        cursor.close()
        return Written(inserted, unrouted)

    def close(self) -> None:
        self.raw.execute(f"PRAGMA cache_size={int(self.previous_cache)}")


class PostgresWriter(BulkWriter):
    STAGE = "feeds_event_stage"

    def __init__(self) -> None:
        connection.ensure_connection()
        self.raw: Any = connection.connection
        self.created = False
        with self.raw.cursor() as cursor:
            # This file's transaction only: its commit does not wait for the WAL flush.
            # A crash right after commit may lose the file's events, never half of them,
            # and the kept original loads again (the run is lost with them).
            cursor.execute("SET LOCAL synchronous_commit = off")

    def write(self, frame: pl.DataFrame) -> Written:
        if frame.is_empty():
            return Written(0, 0)
        frame = present_columns(frame)
        columns = frame.columns
        column_list = ", ".join(columns)
        frame = frame.with_columns(
            *[pl.col(c).dt.strftime("%Y-%m-%d %H:%M:%S%.6f+00").alias(c) for c in DATETIME_COLUMNS],
            *[pl.col(c).dt.strftime("%Y-%m-%d").alias(c) for c in DATE_COLUMNS],
        )
        buffer = io.BytesIO()
        frame.write_csv(buffer, include_header=False, null_value="", quote_style="non_numeric")
        with self.raw.cursor() as cursor:
            if not self.created:
                # Same column types as the event table, no constraints; gone at commit.
                every_column = ", ".join(
                    str(f.column) for f in Event._meta.concrete_fields if not f.primary_key
                )
                cursor.execute(
                    f"CREATE TEMP TABLE IF NOT EXISTS {self.STAGE} ON COMMIT DROP AS "  # noqa: S608
                    f"SELECT {every_column} FROM {TABLE} WITH NO DATA"
                )
                self.created = True
            # Emptied per chunk (and in case an earlier file of the same transaction
            # left rows: the table only goes at commit).
            cursor.execute(f"TRUNCATE {self.STAGE}")
            with cursor.copy(
                f"COPY {self.STAGE} ({column_list}) FROM STDIN WITH (FORMAT csv)"
            ) as copy:
                copy.write(buffer.getbuffer())
            cursor.execute(
                f"WITH written AS ("  # noqa: S608 - column names are ours
                f" INSERT INTO {TABLE} ({column_list}) SELECT {column_list} FROM {self.STAGE}"
                " ON CONFLICT (day, identity_hash) DO UPDATE SET"
                f" count = {TABLE}.count + EXCLUDED.count,"
                f" last_seen = GREATEST({TABLE}.last_seen, EXCLUDED.last_seen)"
                " RETURNING (xmax = 0) AS inserted, organization_id IS NULL AS unrouted)"
                " SELECT count(*) FILTER (WHERE inserted),"
                " count(*) FILTER (WHERE inserted AND unrouted) FROM written"
            )
            inserted, unrouted = cursor.fetchone()
        return Written(inserted, unrouted)


def bulk_writer() -> BulkWriter:
    if connection.vendor == "postgresql":
        return PostgresWriter()
    if connection.vendor == "sqlite":
        return SQLiteWriter()
    raise NotImplementedError(f"no bulk event writer for {connection.vendor}")
