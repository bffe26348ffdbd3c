"""The second factor's arithmetic (no database): TOTP secrets and codes (RFC 6238),
the enrolment QR code, and recovery codes."""

from __future__ import annotations

import re
import secrets
import time

import pyotp
import segno
from pyotp.utils import strings_equal

# Codes one step (30 s) before or after the current one are accepted: clocks drift.
VALID_WINDOW = 1
RECOVERY_CODE_COUNT = 10
# Letters only (never confused with a 6-digit TOTP), without i, l, o: hard to misread.
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz"
RECOVERY_GROUPS, RECOVERY_GROUP_LENGTH = 3, 4

_TOTP_RE = re.compile(r"^\d{6}$")
_SEPARATORS_RE = re.compile(r"[\s\-]+")


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, *, account_name: str, issuer: str) -> str:
    """The ``otpauth://`` URI an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=account_name, issuer_name=issuer)


def qr_svg(uri: str) -> str:
    """The QR code as inline SVG markup (no image request, allowed by our CSP)."""
    return str(segno.make(uri, error="m").svg_inline(scale=4, omitsize=True, title="QR code"))


def clean_code(code: str) -> str:
    """What the user typed, without spaces (authenticator apps show ``123 456``)."""
    return _SEPARATORS_RE.sub("", code or "").lower()


def looks_like_totp(code: str) -> bool:
    return bool(_TOTP_RE.match(clean_code(code)))


def matching_step(secret: str, code: str, *, at: float | None = None) -> int | None:
    """The time step whose code ``code`` is, within the accepted window, or None.

    The step is returned (not just True) so the caller can refuse a code of a step
    already used: a TOTP code must not be replayable while it is still valid."""
    code = clean_code(code)
    if not secret or not _TOTP_RE.match(code):
        return None
    totp = pyotp.TOTP(secret)
    current = totp.timecode(time.time() if at is None else at)
    for step in range(current - VALID_WINDOW, current + VALID_WINDOW + 1):
        if strings_equal(code, totp.generate_otp(step)):
            return step
    return None


def new_recovery_codes(count: int = RECOVERY_CODE_COUNT) -> list[str]:
    return [_recovery_code() for _ in range(count)]


def _recovery_code() -> str:
    letters = "".join(
        secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_GROUPS * RECOVERY_GROUP_LENGTH)
    )
    return "-".join(
        letters[i : i + RECOVERY_GROUP_LENGTH]
        for i in range(0, len(letters), RECOVERY_GROUP_LENGTH)
    )


def normalise_recovery_code(code: str) -> str | None:
    """``ABCD EFGH-ijkl`` -> ``abcd-efgh-ijkl``; None when it cannot be a recovery code."""
    letters = clean_code(code)
    if len(letters) != RECOVERY_GROUPS * RECOVERY_GROUP_LENGTH or not letters.isalpha():
        return None
    return "-".join(
        letters[i : i + RECOVERY_GROUP_LENGTH]
        for i in range(0, len(letters), RECOVERY_GROUP_LENGTH)
    )
