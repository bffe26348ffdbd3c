"""Reads of accounts."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from certhub.accounts.models import ApiToken, User
from certhub.accounts.tokens import hash_token

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


def tokens_of(user: Any) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user_id=user.pk).order_by("-created_at")
