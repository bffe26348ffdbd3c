"""Reads of accounts."""

from __future__ import annotations

import datetime as dt
import ipaddress
from typing import Any

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from certhub.accounts.models import ApiToken, LoginFailure, RecoveryCode, User
from certhub.accounts.tokens import TOKEN_PREFIX, display_prefix, hash_token
from certhub.core.errors import Conflict, NotFound

# last_used_at is refreshed at most this often, so reads do not turn into writes.
LAST_USED_RESOLUTION = dt.timedelta(minutes=5)


def user_for_token(token: str) -> User | None:
    """The active user a usable token belongs to, or None."""
    if not token or len(token) > 200:
        return None
    api_token = (
        ApiToken.objects.usable()
        .select_related("user")
        .filter(token_hash=hash_token(token))
        .first()
    )
    if api_token is None or not api_token.user.is_active:
        return None
    now = timezone.now()
    if api_token.last_used_at is None or now - api_token.last_used_at > LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=api_token.pk).update(last_used_at=now)
    return api_token.user


def current_user(request: Any) -> User:
    """The authenticated user of a request (views and API handlers behind auth)."""
    user = request.user
    if not isinstance(user, User) or not user.is_authenticated:
        raise PermissionError("an authenticated user is required here")
    return user


def get_user_by_username(username: str) -> User:
    """The account named ``username`` (exact, case-insensitive): operator commands."""
    user = User.objects.filter(username__iexact=(username or "").strip()).first()
    if user is None:
        raise NotFound(_("There is no user %(username)s.") % {"username": username})
    return user


def _as_pk(value: Any) -> int | None:
    """An id from outside (URL, session, command line), or None when it cannot be one:
    a number too big for the column must be "not found", not a database error."""
    try:
        pk = int(value)
    except (TypeError, ValueError):
        return None
    return pk if 0 < pk < 2**63 else None


def get_active_user(user_id: Any) -> User | None:
    """The active user with this id (a sign-in waiting for its second factor), or None."""
    pk = _as_pk(user_id)
    return User.objects.filter(pk=pk, is_active=True).first() if pk is not None else None


# --- API tokens ------------------------------------------------------------------------


def tokens_of(user: Any) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user_id=user.pk).order_by("-created_at", "-id")


def get_token_of(user: Any, token_id: Any) -> ApiToken:
    """One of the user's own tokens. Another user's token is "not found", like a token
    that does not exist."""
    pk = _as_pk(token_id)
    token = tokens_of(user).filter(pk=pk).first() if pk is not None else None
    if token is None:
        raise NotFound(_("No such API token."))
    return token


def find_token(prefix_or_id: str) -> ApiToken:
    """Any user's token by its id or the prefix shown in lists (operator commands)."""
    key = (prefix_or_id or "").strip().rstrip("…")
    tokens = ApiToken.objects.select_related("user")
    matches: list[ApiToken] = []
    if key.isascii() and key.isdigit():
        pk = _as_pk(key)
        matches = list(tokens.filter(pk=pk)) if pk is not None else []
    elif key.startswith(TOKEN_PREFIX) and len(key) > len(TOKEN_PREFIX):
        if display_prefix(key) != key:
            # A whole token pasted instead of its prefix: find it by its hash.
            matches = list(tokens.filter(token_hash=hash_token(key)))
        else:
            matches = list(tokens.filter(prefix__startswith=key)[:2])
    if not matches:
        raise NotFound(_("No API token has the id or prefix %(key)s.") % {"key": key})
    if len(matches) > 1:
        raise Conflict(
            _("More than one token has the prefix %(key)s: give its id instead.") % {"key": key}
        )
    return matches[0]


# --- Second factor ---------------------------------------------------------------------


def unused_recovery_codes(user: Any) -> QuerySet[RecoveryCode]:
    return RecoveryCode.objects.filter(user_id=user.pk, used_at__isnull=True).order_by("id")


# --- Sign-in throttling ----------------------------------------------------------------


def client_address(request: Any) -> str | None:
    """The client's address, or None if unusable. Behind reverse proxies
    (CERTHUB_TRUSTED_PROXIES = how many), the address the outermost trusted proxy saw is
    taken from X-Forwarded-For, counting from the right so a client cannot forge it;
    otherwise REMOTE_ADDR."""
    raw = (request.META.get("REMOTE_ADDR") or "").strip()
    proxies = settings.CERTHUB_TRUSTED_PROXIES
    if proxies > 0:
        hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        hops = [h for h in hops if h]
        if len(hops) >= proxies:
            raw = hops[-proxies]
    try:
        return str(ipaddress.ip_address(raw))
    except ValueError:
        return None


def throttle_key(login: str) -> str:
    """The key failures are counted under: the account's username when the login names
    an account (so its username and its e-mail share one count), else what was typed.
    Both lowercased, so case variants do not buy extra attempts."""
    typed = (login or "").strip().lower()[:254]
    if not typed:
        return ""
    lookup = Q(username__iexact=typed)
    if "@" in typed:
        lookup |= Q(email__iexact=typed)
    username = User.objects.filter(lookup).order_by("id").values_list("username", flat=True)
    found = username.first()
    return found.lower() if found else typed


def _window_start() -> dt.datetime:
    return timezone.now() - dt.timedelta(seconds=settings.CERTHUB_LOGIN_WINDOW_SECONDS)


def failures_for_user(username_key: str) -> int:
    return LoginFailure.objects.filter(
        username_key=username_key, occurred_at__gte=_window_start()
    ).count()


def failures_from_address(ip_address: str | None) -> int:
    if not ip_address:
        return 0
    return LoginFailure.objects.filter(
        ip_address=ip_address, occurred_at__gte=_window_start()
    ).count()


def login_throttled(*, username_key: str, ip_address: str | None) -> bool:
    """True when too many sign-ins failed recently for this username or from this address.
    Asked before the password is checked, and answers the same for unknown usernames."""
    if username_key and failures_for_user(username_key) >= settings.CERTHUB_LOGIN_FAILURES_PER_USER:
        return True
    return failures_from_address(ip_address) >= settings.CERTHUB_LOGIN_FAILURES_PER_IP
