"""Business errors a user can cause, each carrying its HTTP status and a message in the
user's terms. The API turns them into JSON in one handler; views into a page or form
error. Tracebacks are for bugs only."""

from __future__ import annotations

from typing import Any


class CerthubError(Exception):
    status = 400

    def __init__(self, message: str, *, status: int | None = None, **details: Any) -> None:
        super().__init__(message)
        self.message = str(message)
        if status is not None:
            self.status = status
        self.details = details


class Invalid(CerthubError):
    status = 400


class NotAuthenticated(CerthubError):
    status = 401


class Forbidden(CerthubError):
    status = 403


class NotFound(CerthubError):
    """Also what a user gets for an object it may not see: never reveal that it exists."""

    status = 404


class Conflict(CerthubError):
    status = 409


class Throttled(CerthubError):
    status = 429
