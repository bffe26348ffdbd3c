from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from certhub.core.errors import CerthubError


class Command(BaseCommand):
    help = (
        "The national situation report as PDF: `certhub reports monthly|quarterly "
        "[--month YYYY-MM] [--council] [--store] --output FILE` (default: the last complete "
        "month or quarter). `certhub reports refresh [--schedule]` recounts the dashboards' "
        "rollups now, or has the worker do it every hour (and generate each period's reports)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("period", choices=["monthly", "quarterly", "refresh"])
        parser.add_argument("--month", help="YYYY-MM: the month, or a month of the quarter")
        parser.add_argument(
            "--council", action="store_true", help="the CERT Council edition (aggregates only)"
        )
        parser.add_argument("--output", help="where to write the PDF")
        parser.add_argument(
            "--schedule", action="store_true", help="refresh: hourly on the task worker"
        )
        parser.add_argument(
            "--store", action="store_true", help="also keep it in the list of national reports"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        from certhub.awareness import reports, services
        from certhub.awareness.models import NationalReport

        if options["period"] == "refresh":
            self.refresh(schedule=options["schedule"])
            return
        if not options["output"]:
            raise CommandError("--output FILE is required")
        edition = NationalReport.Edition.COUNCIL if options["council"] else "national"
        try:
            if options["store"]:
                report = services.generate_report(
                    actor=None, period=options["period"], edition=edition, month=options["month"]
                )
                with report.pdf.open("rb") as stored:
                    pdf = stored.read()
                title = report.title
            else:
                start, end = reports.period_bounds(options["period"], options["month"])
                context = reports.report_context(
                    period=options["period"], edition=edition, start=start, end=end
                )
                pdf = reports.render_report_pdf(context)
                title = context["title"]
        except CerthubError as exc:
            raise CommandError(exc.message) from exc
        Path(options["output"]).write_bytes(pdf)
        self.stdout.write(f"{title}: {len(pdf)} bytes written to {options['output']}")

    def refresh(self, *, schedule: bool) -> None:
        from certhub.awareness import services
        from certhub.awareness.tasks import refresh_rollups

        if schedule:
            refresh_rollups.enqueue(reschedule=True)
            self.stdout.write("the worker now refreshes the rollups every hour")
            return
        counts = services.refresh_all()
        self.stdout.write(
            f"rollups refreshed: {counts['events']} event rows, {counts['incidents']} incident rows"
        )
