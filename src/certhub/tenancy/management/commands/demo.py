from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from certhub.core.errors import CerthubError
from certhub.tenancy.choices import OrgRole
from certhub.tenancy.demo import DEFAULT_PASSWORD, build_demo

# The login table shows every staff login and this many reporters (there is one per
# organization; they all follow the same pattern).
REPORTERS_SHOWN = 3


class Command(BaseCommand):
    help = (
        "Build the demo constituency (the reference tier tree, some fifty fictitious "
        "organizations with documentation-range assets) and a login for every role. "
        "Running it again changes nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--password",
            default=DEFAULT_PASSWORD,
            help=f"the password of every demo login (default: {DEFAULT_PASSWORD})",
        )
        parser.add_argument(
            "--reset-passwords",
            action="store_true",
            help="set the password of demo logins that already exist too",
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="build the demo although this installation is not in demo mode",
        )

    def handle(
        self, *args: Any, password: str, reset_passwords: bool, force: bool, **options: Any
    ) -> None:
        # The demo makes a superuser with a published password: never by accident on a
        # production installation.
        if not settings.DEMO and not force:
            raise CommandError(
                "this installation is not in demo mode (CERTHUB_DEMO=1): the demo creates "
                "logins with a known password, including a superuser. Use --force to build "
                "it anyway."
            )
        if not password:
            raise CommandError("the demo password cannot be empty")
        try:
            result = build_demo(password=password, reset_passwords=reset_passwords)
        except CerthubError as exc:
            raise CommandError(f"the demo data could not be built: {exc.message}") from exc

        counts = result.constituency.counts
        summary = ", ".join(
            f"{tally['created'] + tally['updated'] + tally['unchanged']} {kind}"
            for kind, tally in counts.items()
        )
        self.stdout.write(f"Demo constituency: {summary}.")
        if result.changed():
            created = sum(tally["created"] for tally in counts.values())
            updated = sum(tally["updated"] for tally in counts.values())
            self.stdout.write(
                f"Written: {created} created, {updated} updated; users "
                f"{result.users['created']} created, {result.users['updated']} updated; "
                f"{result.memberships} memberships set."
            )
        else:
            self.stdout.write("Everything was already in place; nothing changed.")

        staff = [login for login in result.logins if login.role != OrgRole.REPORTER]
        reporters = [login for login in result.logins if login.role == OrgRole.REPORTER]
        rows = staff + reporters[:REPORTERS_SHOWN]
        width = max(len(login.username) for login in rows) + 2
        self.stdout.write("")
        self.stdout.write(f"{'login':{width}}{'role':13}where")
        for login in rows:
            self.stdout.write(f"{login.username:{width}}{login.role:13}{login.seat}")
        hidden = len(reporters) - REPORTERS_SHOWN
        if hidden > 0:
            self.stdout.write(
                f"... and {hidden} more: <organization-slug>.reporter for every organization"
            )
        if result.users["created"] or reset_passwords:
            self.stdout.write(f"Password for these logins: {password}")
        else:
            self.stdout.write(
                "The logins existed already and keep their password "
                "(--reset-passwords sets it again)."
            )
        self.stdout.write(f"Built in {result.seconds:.2f} s.")
