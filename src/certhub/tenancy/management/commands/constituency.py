from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from certhub.accounts.selectors import get_user_by_username
from certhub.core.errors import NotFound
from certhub.tenancy import constituency
from certhub.tenancy.constituency import FORMATS, ImportRejected


class Command(BaseCommand):
    help = (
        "Import or export the constituency (sectors, teams, organizations with their assets "
        "and contacts) as JSON or CSV. The formats are described in docs/constituency.md."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        load = sub.add_parser(
            "import",
            help="create or update what the file describes (nothing is deleted); all or "
            "nothing unless --skip-bad",
        )
        load.add_argument("file", help="the JSON or CSV file, or - for standard input")
        load.add_argument(
            "--format", choices=FORMATS, help="default: from the file name, else the content"
        )
        load.add_argument(
            "--skip-bad",
            action="store_true",
            help="write the good records and report the bad ones instead of refusing the file",
        )
        load.add_argument(
            "--dry-run", action="store_true", help="check and count, then write nothing"
        )
        load.add_argument(
            "--actor", metavar="USERNAME", help="the user the audit log names (default: system)"
        )
        dump = sub.add_parser("export", help="write the whole constituency")
        dump.add_argument("--format", choices=FORMATS, default="json")
        dump.add_argument("--output", metavar="FILE", help="default: standard output")

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        if action == "import":
            self.import_file(**options)
        else:
            self.export(**options)

    def import_file(
        self,
        *,
        file: str,
        format: str | None,
        skip_bad: bool,
        dry_run: bool,
        actor: str | None,
        **options: Any,
    ) -> None:
        user = None
        if actor:
            try:
                user = get_user_by_username(actor)
            except NotFound as exc:
                raise CommandError(exc.message) from exc
        data = self.read(file)
        started = time.perf_counter()
        try:
            report = constituency.import_file(
                data, fmt=format, name=file, actor=user, skip_bad=skip_bad, dry_run=dry_run
            )
        except ImportRejected as exc:
            raise CommandError(f"{file}: {exc.message}") from exc
        elapsed = time.perf_counter() - started
        lines = [f"{'':14}{'created':>9}{'updated':>9}{'unchanged':>11}"]
        for kind, tally in report.counts.items():
            lines.append(
                f"{kind:14}{tally['created']:>9}{tally['updated']:>9}{tally['unchanged']:>11}"
            )
        self.stdout.write("\n".join(lines))
        if report.problems:
            records = len({problem.where for problem in report.problems})
            self.stderr.write(f"{records} record(s) not imported:")
            for problem in report.problems:
                self.stderr.write(f"  {problem}")
        outcome = "dry run, nothing written" if dry_run else "imported"
        self.stdout.write(f"{file}: {outcome} in {elapsed:.2f} s")

    def read(self, file: str) -> bytes:
        if file == "-":
            return sys.stdin.buffer.read()
        try:
            return Path(file).read_bytes()
        except FileNotFoundError as exc:
            raise CommandError(f"{file}: no such file") from exc
        except IsADirectoryError as exc:
            raise CommandError(f"{file}: is a directory, not a file") from exc
        except OSError as exc:
            raise CommandError(f"{file}: cannot be read ({exc.strerror})") from exc

    def export(self, *, format: str, output: str | None, **options: Any) -> None:
        text = constituency.export_text(format)
        if not output:
            self.stdout.write(text, ending="")
            return
        try:
            Path(output).write_text(text, encoding="utf-8")
        except OSError as exc:
            raise CommandError(f"{output}: cannot be written ({exc.strerror})") from exc
        self.stderr.write(f"constituency written to {output}")
