from __future__ import annotations

import argparse
import datetime as dt
import io
import sys
import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from certhub.accounts.selectors import get_user_by_username
from certhub.core.errors import CerthubError
from certhub.feeds import services
from certhub.feeds.parsers import FileRejected, load_mapping
from certhub.feeds.reports import REPORT_TYPES

TOTAL_KEYS = ("rows", "accepted", "duplicates", "rejected", "unrouted")


def _day(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{value!r} is not a day (YYYY-MM-DD)") from exc


class Command(BaseCommand):
    help = (
        "The abuse-feed pipeline: ingest report files (Shadowserver CSV, mapped CSV, IntelMQ "
        "JSON lines), load the prefix-to-AS table, work through the inbox, prune old events. "
        "See docs/feeds.md."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        ingest = sub.add_parser("ingest", help="load report files or folders of them")
        ingest.add_argument("paths", nargs="+", metavar="PATH")
        ingest.add_argument(
            "--type",
            dest="report_type",
            choices=[*sorted(REPORT_TYPES), "intelmq"],
            help="the report type (default: from the file name, else the header)",
        )
        ingest.add_argument(
            "--mapping", metavar="FILE", help="a generic CSV's column mapping (JSON)"
        )
        ingest.add_argument("--json", action="store_true", help="print the totals as JSON")
        ingest.add_argument(
            "--chunk-rows", type=int, default=services.DEFAULT_CHUNK_ROWS, help="rows per chunk"
        )
        ingest.add_argument("--actor", metavar="USERNAME", help="who the audit log names")
        asn = sub.add_parser("load-asn", help="replace the prefix-to-AS table")
        asn.add_argument("file", help="prefix,asn,name CSV or pyasn ipasn.dat")
        asn.add_argument("--actor", metavar="USERNAME")
        prune = sub.add_parser("prune", help="delete old events and their files")
        prune.add_argument("--older-than", type=int, required=True, metavar="DAYS")
        prune.add_argument("--actor", metavar="USERNAME")
        inbox = sub.add_parser("inbox", help="ingest what waits in CERTHUB_FEEDS_INBOX")
        inbox.add_argument("--watch", action="store_true", help="keep watching")
        inbox.add_argument("--interval", type=float, default=30.0, metavar="SECONDS")
        inbox.add_argument(
            "--schedule",
            action="store_true",
            help="enqueue the worker task that watches the inbox instead",
        )
        digest = sub.add_parser("digest", help="send a day's digests and team summaries")
        digest.add_argument("--day", type=_day, metavar="YYYY-MM-DD", help="default: yesterday")
        digest.add_argument(
            "--schedule",
            action="store_true",
            help="enqueue the daily worker task (rules, then digests) instead",
        )
        rules = sub.add_parser("rules", help="run the feed rules over a day's events")
        rules.add_argument("--day", type=_day, metavar="YYYY-MM-DD", help="default: yesterday")

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        actor = self.actor(options.pop("actor", None))
        try:
            if action == "ingest":
                self.ingest(actor=actor, **options)
            elif action == "load-asn":
                text = self.read(options["file"])
                count = services.load_asn_table(text=text, actor=actor)
                self.stdout.write(f"prefix-to-AS table loaded: {count} prefixes")
            elif action == "prune":
                events, files = services.prune_events(
                    older_than_days=options["older_than"], actor=actor
                )
                self.stdout.write(f"pruned {events} events and {files} report files")
            elif action == "digest":
                self.digest(day=options["day"], schedule=options["schedule"])
            elif action == "rules":
                self.rules(day=options["day"])
            else:
                self.inbox(**options)
        except CerthubError as exc:
            raise CommandError(exc.message) from exc

    def digest(self, *, day: dt.date | None, schedule: bool) -> None:
        from certhub.feeds import digests
        from certhub.feeds.tasks import daily_outputs

        if schedule:
            daily_outputs.enqueue(reschedule=True)
            self.stdout.write("daily feed outputs scheduled on the worker (queue feeds)")
            return
        day = day or digests.default_day()
        outcome = digests.send_digests(day=day)
        self.stdout.write(
            f"{day.isoformat()}: {outcome.organizations} organization digests and "
            f"{outcome.teams} team summaries queued"
        )

    def rules(self, *, day: dt.date | None) -> None:
        from certhub.feeds import digests, rules

        day = day or digests.default_day()
        outcome = rules.apply_rules(day=day)
        for firing in outcome.fired:
            reference = firing.incident.reference if firing.incident else "-"
            self.stdout.write(f"{firing.rule.name}: {firing.organization.slug} -> {reference}")
        self.stdout.write(f"{day.isoformat()}: {outcome.rules} rules, {len(outcome.fired)} fired")

    def actor(self, username: str | None) -> Any:
        if not username:
            return None
        try:
            return get_user_by_username(username)
        except CerthubError as exc:
            raise CommandError(exc.message) from exc

    def read(self, file: str) -> str:
        try:
            return Path(file).read_text(encoding="utf-8")
        except OSError as exc:
            raise CommandError(f"{file}: cannot be read ({exc.strerror})") from exc
        except UnicodeDecodeError as exc:
            raise CommandError(f"{file}: not UTF-8 text") from exc

    # --- ingest -----------------------------------------------------------------------

    def ingest(
        self,
        *,
        actor: Any,
        paths: list[str],
        report_type: str | None,
        mapping: str | None,
        json: bool,
        chunk_rows: int,
        verbosity: int,
        **options: Any,
    ) -> None:
        declared = None
        if mapping:
            try:
                declared = load_mapping(self.read(mapping))
            except FileRejected as exc:
                raise CommandError(f"{mapping}: {exc.reason}") from exc
        missing = [p for p in paths if not Path(p).exists()]
        if missing:
            raise CommandError(f"no such file or folder: {', '.join(missing)}")
        files = list(services.report_files([Path(p) for p in paths]))
        interactive = sys.stdout.isatty() and not json
        outcomes = []
        started = time.perf_counter()
        if interactive:
            outcomes = self.ingest_with_progress(files, actor, report_type, declared, chunk_rows)
        else:
            for path in files:

                def chunk_done(rows: int, path: Path = path) -> None:
                    if verbosity >= 2:
                        self.stderr.write(f"{path.name}: {rows} rows stored")
                        self.stderr.flush()

                outcomes.append(
                    services.ingest_file(
                        path=path,
                        actor=actor,
                        report_type=report_type,
                        mapping=declared,
                        chunk_rows=chunk_rows,
                        progress=chunk_done,
                    )
                )
        elapsed = time.perf_counter() - started
        per_file = [outcome.as_dict() for outcome in outcomes]
        totals = {key: sum(entry[key] for entry in per_file) for key in TOTAL_KEYS}
        if json:
            import json as json_module

            document = {**totals, "seconds": round(elapsed, 3), "files": per_file}
            self.stdout.write(json_module.dumps(document, indent=2))
        else:
            self.summary(per_file, totals, elapsed)
        for outcome in outcomes:
            run = outcome.run
            if outcome.status == "done" and run is not None and run.rejections:
                self.stderr.write(f"{outcome.file_name}: {run.rejected} rejected row(s):")
                for rejection in run.rejections:
                    self.stderr.write(f"  line {rejection['line']}: {rejection['reason']}")
                if run.rejected > len(run.rejections):
                    self.stderr.write(f"  ... and {run.rejected - len(run.rejections)} more")
            elif outcome.status != "done":
                self.stderr.write(f"{outcome.file_name}: {outcome.status}: {outcome.message}")

    def ingest_with_progress(
        self,
        files: list[Path],
        actor: Any,
        report_type: str | None,
        mapping: dict[str, Any] | None,
        chunk_rows: int,
    ) -> list[services.IngestOutcome]:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TaskID,
            TextColumn,
            TimeElapsedColumn,
        )

        outcomes = []
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
        ) as bar:
            for path in files:
                task_id = bar.add_task(path.name, total=None)

                def opened(total: int, task_id: TaskID = task_id) -> None:
                    bar.update(task_id, total=total)

                def advanced(rows: int, task_id: TaskID = task_id) -> None:
                    bar.advance(task_id, rows)

                outcomes.append(
                    services.ingest_file(
                        path=path,
                        actor=actor,
                        report_type=report_type,
                        mapping=mapping,
                        chunk_rows=chunk_rows,
                        on_open=opened,
                        progress=advanced,
                    )
                )
                bar.update(task_id, completed=bar.tasks[task_id].total or 0)
        return outcomes

    def summary(
        self, per_file: list[dict[str, Any]], totals: dict[str, int], elapsed: float
    ) -> None:
        from rich.console import Console
        from rich.table import Table

        table = Table(title=f"feeds ingest: {len(per_file)} file(s) in {elapsed:.2f} s")
        for heading in ("file", "type", "status", *TOTAL_KEYS, "seconds"):
            table.add_column(
                heading, justify="left" if heading in {"file", "type", "status"} else "right"
            )
        for entry in per_file:
            table.add_row(
                entry["file"],
                entry["report_type"],
                entry["status"],
                *(str(entry[key]) for key in TOTAL_KEYS),
                f"{entry['seconds']:.2f}",
            )
        table.add_row("total", "", "", *(str(totals[key]) for key in TOTAL_KEYS), f"{elapsed:.2f}")
        buffer = io.StringIO()
        console = Console(file=buffer, width=160, force_terminal=self.stdout.isatty())
        console.print(table)
        self.stdout.write(buffer.getvalue(), ending="")

    # --- inbox ------------------------------------------------------------------------------

    def inbox(self, *, watch: bool, interval: float, schedule: bool, **options: Any) -> None:
        folder = services.inbox_folder()
        if folder is None:
            raise CommandError("CERTHUB_FEEDS_INBOX is not set")
        if schedule:
            from certhub.feeds.tasks import watch_inbox

            watch_inbox.enqueue(reschedule=True)
            self.stdout.write(f"the worker now watches {folder}")
            return
        while True:
            for outcome in services.process_inbox(inbox=folder):
                self.stdout.write(f"{outcome.file_name}: {outcome.status}: {outcome.message}")
            if not watch:
                return
            time.sleep(interval)
