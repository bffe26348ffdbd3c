from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from certhub.audit.selectors import verify_chain


class Command(BaseCommand):
    help = "Work with the append-only audit log. `certhub audit verify` checks the hash chain."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("verify", help="check every entry's hash and the chain between them")

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        if action == "verify":
            checked, broken = verify_chain()
            if broken is not None:
                where = f"entry #{broken.entry_id}" if broken.entry_id else "the log"
                raise CommandError(
                    f"audit log broken at {where}: {broken.reason} "
                    f"({checked} entries verified before it)"
                )
            self.stdout.write(f"audit log intact: {checked} entries verified")
