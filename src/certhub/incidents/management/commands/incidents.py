from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from certhub.incidents import services
from certhub.incidents.tasks import check_deadlines


class Command(BaseCommand):
    help = (
        "Incident housekeeping. `certhub incidents check-deadlines` notifies each newly "
        "breached deadline once (run it every few minutes from cron); add --enqueue to "
        "hand the check to the task worker instead of running it here."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        check = sub.add_parser("check-deadlines", help="notify breached deadlines once")
        check.add_argument("--enqueue", action="store_true", help="run it on the task worker")

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        if action == "check-deadlines":
            if options["enqueue"]:
                result = check_deadlines.enqueue()
                self.stdout.write(f"deadline check enqueued ({result.id})")
                return
            count = services.check_deadlines()
            self.stdout.write(f"{count} newly breached deadline(s) notified")
