"""`certhub council daily [--schedule] [--on YYYY-MM-DD]`: the Council's and the CII
registry's daily pass (end access of members whose term ended; remind the CII CERT of
due and overdue reviews), now or scheduled on the worker every day."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from certhub.core.errors import CerthubError


def _day(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"not a date (YYYY-MM-DD): {value}") from exc


class Command(BaseCommand):
    help = "The CERT Council's and the CII registry's daily pass."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["daily"])
        parser.add_argument(
            "--schedule",
            action="store_true",
            help="enqueue the pass on the worker, which then repeats it every day",
        )
        parser.add_argument("--on", type=_day, default=None, help="the day to remind for")

    def handle(self, *args: Any, schedule: bool, on: dt.date | None, **options: Any) -> None:
        from certhub.awareness import council_services
        from certhub.awareness.council_tasks import council_daily

        if schedule:
            council_daily.enqueue(reschedule=True)
            self.stdout.write("the Council's daily pass is scheduled on the worker")
            return
        try:
            flags = council_services.sync_council_flags(actor=None)
            outcome = council_services.send_cii_review_reminders(on=on)
        except CerthubError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(
            f"Council access changed for {flags} people; CII review reminders queued: "
            f"{outcome.upcoming} due soon, {outcome.overdue} overdue"
        )
