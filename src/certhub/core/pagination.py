"""Cursor pagination: stable under inserts, constant cost per page (no OFFSET scans)."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from certhub.core.errors import Invalid

DEFAULT_LIMIT = 50
MAX_LIMIT = 500


@dataclass(frozen=True)
class Page:
    items: list[Any]
    next_cursor: str | None


def encode_cursor(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps([value]).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> Any:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        (value,) = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError) as exc:
        raise Invalid(_("The cursor is not valid; start again from the first page.")) from exc
    # A forged cursor must not reach the database as None, a container or a NUL byte.
    if isinstance(value, bool) or not isinstance(value, str | int | float) or "\x00" in str(value):
        raise Invalid(_("The cursor is not valid; start again from the first page."))
    return value


def paginate(queryset: QuerySet[Any], *, key: str, limit: int | None, cursor: str | None) -> Page:
    """One page of ``queryset`` ordered by the unique field ``key``, after ``cursor``."""
    if limit is None:
        limit = DEFAULT_LIMIT
    if not 1 <= limit <= MAX_LIMIT:
        raise Invalid(_("limit must be between 1 and %(max)d.") % {"max": MAX_LIMIT})
    queryset = queryset.order_by(key)
    if cursor:
        queryset = queryset.filter(**{f"{key}__gt": decode_cursor(cursor)})
    rows = list(queryset[: limit + 1])
    if len(rows) > limit:
        rows = rows[:limit]
        return Page(rows, encode_cursor(getattr(rows[-1], key)))
    return Page(rows, None)
