"""``certhub token create|list|revoke``: API tokens for scripts and machines."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from certhub.accounts import selectors, services
from certhub.accounts.models import ApiToken
from certhub.core.errors import CerthubError


def _when(value: Any) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%MZ") if value else "-"


def _status(token: ApiToken) -> str:
    if token.revoked_at is not None:
        return "revoked"
    return "active" if token.is_usable else "expired"


class Command(BaseCommand):
    help = (
        "Manage API tokens. `token create USERNAME` prints a new token (only the token, "
        "once: it is not stored); `token list USERNAME`; `token revoke PREFIX_OR_ID`."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="create a token and print it (shown once)")
        create.add_argument("username")
        create.add_argument("--name", default="command line", help="what the token is for")
        create.add_argument(
            "--expires",
            type=int,
            default=None,
            metavar="DAYS",
            help="expire after this many days (default: never)",
        )
        listing = sub.add_parser("list", help="list a user's tokens (never the tokens themselves)")
        listing.add_argument("username")
        revoke = sub.add_parser("revoke", help="revoke a token by its prefix or id")
        revoke.add_argument("prefix_or_id")

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        try:
            if action == "create":
                self._create(options["username"], options["name"], options["expires"])
            elif action == "list":
                self._list(options["username"])
            elif action == "revoke":
                self._revoke(options["prefix_or_id"])
        except CerthubError as exc:
            # A mistake on the command line, said in its terms: no traceback.
            raise CommandError(exc.message) from exc

    def _create(self, username: str, name: str, expires: int | None) -> None:
        user = selectors.get_user_by_username(username)
        _token, plain = services.create_token(
            actor=None, user=user, name=name, expires_in_days=expires
        )
        # Only the token on stdout, so that `TOKEN=$(certhub token create ...)` works.
        self.stdout.write(plain)

    def _list(self, username: str) -> None:
        user = selectors.get_user_by_username(username)
        tokens = list(selectors.tokens_of(user))
        if not tokens:
            self.stderr.write(f"{user.get_username()} has no API tokens")
            return
        self.stdout.write(
            f"{'ID':>6}  {'PREFIX':<12} {'STATUS':<8} {'CREATED':<17}  {'EXPIRES':<17}  "
            f"{'LAST USED':<17}  NAME"
        )
        for token in tokens:
            self.stdout.write(
                f"{token.pk:>6}  {token.prefix:<12} {_status(token):<8} "
                f"{_when(token.created_at):<17}  {_when(token.expires_at):<17}  "
                f"{_when(token.last_used_at):<17}  {token.name}"
            )

    def _revoke(self, prefix_or_id: str) -> None:
        token = selectors.find_token(prefix_or_id)
        was_revoked = token.revoked_at is not None
        services.revoke_token(actor=None, token=token)
        if was_revoked:
            self.stdout.write(f"token {token.prefix}… ({token.name}) was already revoked")
        else:
            self.stdout.write(
                f"revoked token {token.prefix}… ({token.name}) of {token.user.get_username()}"
            )
