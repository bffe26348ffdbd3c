"""Every write of the feeds app: ingesting report files (one transaction per file),
loading the prefix-to-AS table, pruning old events, and working through the inbox."""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from certhub.audit.services import record
from certhub.core.errors import Invalid
from certhub.feeds import parsers, signals
from certhub.feeds.models import AsnPrefix, Event, IngestRun, ReportFile
from certhub.feeds.pipeline import Tally, load_report
from certhub.feeds.routing import Router, network_bounds
from certhub.feeds.storage import bulk_writer, store_original, stored_path

DEFAULT_CHUNK_ROWS = 50_000


@dataclass(frozen=True)
class IngestOutcome:
    """What became of one file: ``done`` (loaded), ``skipped`` (already loaded) or
    ``quarantined`` (nothing loaded, with the reason)."""

    file_name: str
    status: str
    message: str
    run: IngestRun | None = None

    def as_dict(self) -> dict[str, Any]:
        run = self.run
        counts = {
            key: getattr(run, key, 0) if run is not None and self.status == "done" else 0
            for key in ("rows", "accepted", "duplicates", "rejected", "unrouted")
        }
        return {
            "file": self.file_name,
            "status": self.status,
            "report_type": run.report_type if run else "",
            **counts,
            "seconds": round(run.seconds, 3) if run and self.status == "done" else 0,
            "message": self.message,
        }


def _actor_name(actor: Any) -> str:
    return actor.get_username() if actor is not None else "system"


def _counts(run: IngestRun) -> dict[str, list[Any]]:
    return {
        key: [None, getattr(run, key)]
        for key in ("rows", "accepted", "duplicates", "rejected", "unrouted")
    }


def ingest_file(
    *,
    path: Path,
    actor: Any = None,
    name: str | None = None,
    report_type: str | None = None,
    mapping: dict[str, Any] | None = None,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    progress: Callable[[int], None] | None = None,
    on_open: Callable[[int], None] | None = None,
) -> IngestOutcome:
    """Load one report file: keep the original (content-addressed), skip it when the same
    bytes were loaded before, otherwise parse, enrich, route, deduplicate and store its
    events and its accounting in ONE transaction, so that an interrupted ingest leaves
    nothing behind. A file that cannot be loaded is quarantined with the reason."""
    file_name = name or path.name
    started = timezone.now()
    clock = time.perf_counter()
    stored = store_original(path)
    if on_open is not None:
        on_open(max(stored.lines - 1, 0))
    loaded = IngestRun.objects.filter(sha256=stored.sha256, status=IngestRun.Status.DONE).first()
    if loaded is not None:
        return IngestOutcome(
            file_name,
            "skipped",
            _("already ingested on %(when)s as %(name)s; skipped")
            % {"when": loaded.finished_at.strftime("%Y-%m-%d %H:%M UTC"), "name": loaded.file_name},
            loaded,
        )
    try:
        report = parsers.open_report(
            stored.path,
            name=file_name,
            report_type=report_type,
            mapping=mapping,
            chunk_rows=chunk_rows,
        )
        with transaction.atomic():
            report_file, _created = ReportFile.objects.get_or_create(
                sha256=stored.sha256, defaults={"size": stored.size, "name": file_name[:255]}
            )
            writer = bulk_writer()
            try:
                tally = load_report(
                    report,
                    file_id=report_file.pk,
                    router=Router.load(),
                    writer=writer,
                    observed_at=started,
                    progress=progress,
                )
            finally:
                writer.close()
            run = IngestRun.objects.create(
                file=report_file,
                sha256=stored.sha256,
                file_name=file_name[:255],
                report_type=report.report_type,
                feed_name=tally.feed_name[:100],
                status=IngestRun.Status.DONE,
                started_at=started,
                finished_at=timezone.now(),
                seconds=time.perf_counter() - clock,
                actor=_actor_name(actor),
                **_tally_fields(tally),
            )
            if tally.last_day and (
                report_file.last_day is None or tally.last_day > report_file.last_day
            ):
                report_file.last_day = tally.last_day
                report_file.save(update_fields=["last_day"])
            record(actor=actor, action="feeds.file_ingested", obj=run, changes=_counts(run))
            loaded_days = sorted(tally.days)
            # Robust: the file is loaded and committed; a failing listener above is
            # logged and never reports the ingest as failed.
            transaction.on_commit(
                lambda: signals.events_loaded.send(sender=IngestRun, run=run, days=loaded_days),
                robust=True,
            )
    except parsers.FileRejected as exc:
        run = quarantine_file(
            sha256=stored.sha256,
            size=stored.size,
            file_name=file_name,
            reason=exc.reason,
            started=started,
            seconds=time.perf_counter() - clock,
            actor=actor,
        )
        return IngestOutcome(file_name, "quarantined", exc.reason, run)
    except IntegrityError:
        # Another worker loaded the same bytes meanwhile (feeds_run_loaded_once).
        return IngestOutcome(file_name, "skipped", _("ingested by another worker; skipped"))
    message = _(
        "%(rows)d rows: %(accepted)d accepted, %(duplicates)d duplicates, %(rejected)d rejected"
    ) % {
        "rows": run.rows,
        "accepted": run.accepted,
        "duplicates": run.duplicates,
        "rejected": run.rejected,
    }
    return IngestOutcome(file_name, "done", message, run)


def _tally_fields(tally: Tally) -> dict[str, Any]:
    return {
        "rows": tally.rows,
        "accepted": tally.accepted,
        "duplicates": tally.duplicates,
        "rejected": tally.rejected,
        "unrouted": tally.unrouted,
        "rejections": tally.rejections,
    }


@transaction.atomic
def quarantine_file(
    *,
    sha256: str,
    size: int,
    file_name: str,
    reason: str,
    started: dt.datetime,
    seconds: float,
    actor: Any = None,
) -> IngestRun:
    """Record that a file was not loaded, and why. Its original stays in the store."""
    report_file, _created = ReportFile.objects.get_or_create(
        sha256=sha256, defaults={"size": size, "name": file_name[:255]}
    )
    run = IngestRun.objects.create(
        file=report_file,
        sha256=sha256,
        file_name=file_name[:255],
        status=IngestRun.Status.QUARANTINED,
        reason=reason,
        started_at=started,
        finished_at=timezone.now(),
        seconds=seconds,
        actor=_actor_name(actor),
    )
    record(
        actor=actor,
        action="feeds.file_quarantined",
        obj=run,
        changes={"status": [None, run.status], "reason": [None, reason]},
    )
    return run


REPORT_SUFFIXES = (".csv", ".jsonl", ".ndjson", ".json", ".txt")


def report_files(paths: list[Path]) -> Iterator[Path]:
    """The files named, and the report files inside the folders named (sorted)."""
    for path in paths:
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                if (
                    child.is_file()
                    and not child.name.startswith(".")
                    and (child.suffix.lower() in REPORT_SUFFIXES)
                ):
                    yield child
        else:
            yield path


# --- Prefix-to-AS table -------------------------------------------------------------------


def _asn_rows(text: str) -> Iterator[tuple[int, str, int, str]]:
    """(line, prefix, asn, name) from the documented ``prefix,asn,name`` CSV or the pyasn
    ``ipasn.dat`` text form (``prefix<TAB>asn``, ``;`` comments)."""
    if "\t" in text.split("\n", 3)[-1] or text.lstrip().startswith(";"):
        for number, line in enumerate(text.splitlines(), start=1):
            line = line.strip()
            if not line or line.startswith(";"):
                continue
            prefix, _sep, asn = line.partition("\t")
            yield number, prefix, _int_asn(asn, number), ""
        return
    reader = csv.reader(io.StringIO(text))
    for number, row in enumerate(reader, start=1):
        if not row or not "".join(row).strip() or row[0].startswith("#"):
            continue
        if number == 1 and row[0].strip().lower() == "prefix":
            continue
        if len(row) < 2:
            raise Invalid(_("line %(line)d: expected prefix,asn,name") % {"line": number})
        yield number, row[0], _int_asn(row[1], number), (row[2].strip() if len(row) > 2 else "")


def _int_asn(raw: str, line: int) -> int:
    text = raw.strip().upper().removeprefix("AS")
    if not text.isdigit() or not 0 < int(text) < 2**32:
        raise Invalid(
            _("line %(line)d: %(value)s is not an AS number") % {"line": line, "value": raw}
        )
    return int(text)


@transaction.atomic
def load_asn_table(*, text: str, actor: Any = None) -> int:
    """Replace the prefix-to-AS table with the file's content (all or nothing)."""
    rows: dict[str, AsnPrefix] = {}
    for line, prefix, asn, name in _asn_rows(text):
        try:
            normalised, start, end, length = network_bounds(prefix)
        except ValueError as exc:
            raise Invalid(
                _("line %(line)d: %(value)s is not an IP network") % {"line": line, "value": prefix}
            ) from exc
        rows[normalised] = AsnPrefix(
            prefix=normalised,
            range_start=f"{start:032x}",
            range_end=f"{end:032x}",
            prefix_len=length,
            asn=asn,
            as_name=name[:200],
        )
    before = AsnPrefix.objects.count()
    AsnPrefix.objects.all().delete()
    AsnPrefix.objects.bulk_create(rows.values(), batch_size=5000)
    record(
        actor=actor,
        action="feeds.asn_table_loaded",
        object_type="feeds.asnprefix",
        object_repr="prefix-to-AS table",
        changes={"prefixes": [before, len(rows)]},
    )
    return len(rows)


# --- Retention ------------------------------------------------------------------------------


@transaction.atomic
def prune_events(*, older_than_days: int, actor: Any = None) -> tuple[int, int]:
    """Delete events whose day is more than ``older_than_days`` days ago, and the kept
    report files no remaining event points at. Returns (events, files) deleted."""
    if older_than_days < 0:
        raise Invalid(_("The number of days cannot be negative."))
    cutoff = timezone.now().date() - dt.timedelta(days=older_than_days)
    events, _by_model = Event.objects.filter(day__lt=cutoff).delete()
    # Every event of a file is on or before the file's last day (see ReportFile.last_day).
    stale = list(ReportFile.objects.filter(last_day__lt=cutoff).values_list("pk", "sha256"))
    ReportFile.objects.filter(pk__in=[pk for pk, _sha in stale]).delete()
    record(
        actor=actor,
        action="feeds.events_pruned",
        object_type="feeds.event",
        object_repr=f"events before {cutoff.isoformat()}",
        changes={"events": [events, 0], "files": [len(stale), 0]},
    )
    # The files go once the rows are gone for good.
    transaction.on_commit(lambda: _remove_files([sha for _pk, sha in stale]))
    return events, len(stale)


def _remove_files(hashes: list[str]) -> None:
    for sha in hashes:
        if not ReportFile.objects.filter(sha256=sha).exists():
            stored_path(sha).unlink(missing_ok=True)


# --- Inbox ------------------------------------------------------------------------------------


def inbox_folder() -> Path | None:
    configured = getattr(settings, "CERTHUB_FEEDS_INBOX", None)
    if configured is None:
        configured = os.environ.get("CERTHUB_FEEDS_INBOX", "")
    return Path(configured).expanduser() if str(configured).strip() else None


def process_inbox(
    *, inbox: Path, actor: Any = None, settle_seconds: float = 2.0
) -> list[IngestOutcome]:
    """Ingest the files waiting in ``inbox`` and move each to ``done/`` or
    ``quarantine/`` (with a ``.reason.txt`` beside it). Files still being written (changed
    in the last ``settle_seconds``), hidden files and ``*.part`` are left for next time."""
    done_dir, quarantine_dir = inbox / "done", inbox / "quarantine"
    done_dir.mkdir(parents=True, exist_ok=True)
    quarantine_dir.mkdir(exist_ok=True)
    outcomes: list[IngestOutcome] = []
    now = time.time()
    for path in sorted(inbox.iterdir()):
        if (
            not path.is_file()
            or path.name.startswith(".")
            or path.suffix in {".part", ".tmp"}
            or now - path.stat().st_mtime < settle_seconds
        ):
            continue
        outcome = ingest_file(path=path, actor=actor)
        target_dir = quarantine_dir if outcome.status == "quarantined" else done_dir
        target = target_dir / path.name
        if target.exists():
            target = target_dir / f"{path.stem}-{int(now)}{path.suffix}"
        shutil.move(str(path), target)
        if outcome.status == "quarantined":
            target.with_name(target.name + ".reason.txt").write_text(
                outcome.message + "\n", encoding="utf-8"
            )
        outcomes.append(outcome)
    return outcomes
