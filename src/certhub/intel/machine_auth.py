"""Who a machine client (TAXII, MISP) is: an API token (``Authorization: Bearer chb_...``,
or the raw key as PyMISP sends it), or HTTP Basic with a username and password (or a
token as the password). A password is not enough for an account with a second factor,
nor for one the MFA policy (CERTHUB_REQUIRE_MFA) covers: such an account sends a token."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from django.contrib.auth import authenticate
from django.http import HttpRequest

from certhub.accounts.selectors import (
    client_address,
    login_throttled,
    throttle_key,
    user_for_token,
)
from certhub.accounts.services import record_login_failure
from certhub.tenancy.middleware import mfa_required_for


def machine_user(request: HttpRequest, *, raw_key: bool = False) -> Any:
    """The authenticated user of a machine request, or None."""
    header = request.headers.get("Authorization", "").strip()
    if not header:
        return None
    scheme, _sep, credentials = header.partition(" ")
    if scheme.lower() == "bearer":
        return user_for_token(credentials.strip())
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(credentials.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            return None
        username, sep, secret = decoded.partition(":")
        if not sep:
            return None
        user = user_for_token(secret)
        if user is not None:
            return user if not username or user.get_username() == username else None
        return _password_user(request, username, secret)
    if raw_key:
        return user_for_token(header)
    return None


def _password_user(request: HttpRequest, username: str, password: str) -> Any:
    key, address = throttle_key(username), client_address(request)
    if login_throttled(username_key=key, ip_address=address):
        return None
    user = authenticate(request, username=username, password=password)
    if user is None:
        record_login_failure(username_key=key, ip_address=address, stage="basic")
        return None
    if getattr(user, "mfa_enabled", False) or mfa_required_for(user) or not user.is_active:
        return None
    return user
