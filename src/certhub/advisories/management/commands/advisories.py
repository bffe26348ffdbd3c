from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from certhub.accounts.selectors import get_user_by_username
from certhub.advisories import services
from certhub.core.errors import CerthubError, NotFound
from certhub.tenancy.models import Team


class Command(BaseCommand):
    help = (
        "Advisories: `import-csaf` turns a vendor's CSAF 2.0 document into a draft advisory; "
        "`remind` reminds organizations, once, that have not acknowledged an advisory within "
        "its deadline (run it every few minutes from cron, or add --enqueue to hand it to "
        "the task worker)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        load = sub.add_parser(
            "import-csaf",
            help="turn a CSAF 2.0 document into a draft advisory with its products and CVEs",
        )
        load.add_argument("file", help="the CSAF JSON file")
        load.add_argument(
            "--actor",
            metavar="USERNAME",
            help="the analyst the draft is written by (and the audit log names); "
            "default: the system",
        )
        load.add_argument(
            "--team",
            metavar="SLUG",
            help="the authoring CERT (default: the actor's own CERT; required without --actor)",
        )

        remind = sub.add_parser(
            "remind", help="remind organizations that have not acknowledged in time (once)"
        )
        remind.add_argument("--enqueue", action="store_true", help="run it on the task worker")

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        if action == "remind":
            self.remind(enqueue=options["enqueue"])
            return
        self.import_csaf(**options)

    def remind(self, *, enqueue: bool) -> None:
        from certhub.advisories.tasks import send_ack_reminders

        if enqueue:
            result = send_ack_reminders.enqueue()
            self.stdout.write(f"acknowledgement reminders enqueued ({result.id})")
            return
        count = services.send_ack_reminders()
        self.stdout.write(f"{count} organization(s) reminded to acknowledge")

    def import_csaf(
        self, *, file: str, actor: str | None, team: str | None, **options: Any
    ) -> None:
        try:
            user = get_user_by_username(actor) if actor else None
        except NotFound as exc:
            raise CommandError(exc.message) from exc
        authoring_team = None
        if team:
            # An operator names the team directly; the service still checks that the
            # actor may write for it.
            authoring_team = Team.objects.filter(slug=team).first()
            if authoring_team is None:
                raise CommandError(f"There is no team {team}.")
        elif user is None:
            raise CommandError("Give --actor or --team: the draft needs an authoring CERT.")
        try:
            raw = Path(file).read_bytes()
        except OSError as exc:
            raise CommandError(f"{file}: {exc.strerror or exc}") from exc
        try:
            advisory = services.import_csaf(actor=user, team=authoring_team, raw=raw)
        except CerthubError as exc:
            raise CommandError(f"{file}: {exc.message}") from exc
        self.stdout.write(
            f"{advisory.tracking_id}: draft created for {advisory.team.slug} with "
            f"{advisory.products.count()} products and {advisory.cves.count()} CVEs."
        )
