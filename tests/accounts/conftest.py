"""Helpers for the accounts stories: enrolling a second factor and computing codes the
way a phone would (pyotp), and an API client with a bearer token."""

from __future__ import annotations

import time
from typing import Any

import pyotp
import pytest

from certhub.accounts import services
from certhub.accounts.models import User


@pytest.fixture(autouse=True)
def _mfa_optional_unless_asked(settings: Any) -> None:
    # Most stories are about one feature; those about the requirement turn it on.
    settings.CERTHUB_REQUIRE_MFA = False


def enrol(user: User) -> str:
    """Turn on the user's second factor with a fresh secret; returns the secret."""
    secret = pyotp.random_base32()
    services.enable_mfa(actor=user, user=user, secret=secret, code=pyotp.TOTP(secret).now())
    return secret


def next_code(secret: str) -> str:
    """A code the server accepts that was not used yet: the next time step's code (the
    server accepts one step of clock drift, and the current step may just have been used
    to enrol)."""
    return pyotp.TOTP(secret).at(time.time() + 30)


def sign_in(client: Any, login: str, password: str, **extra: Any) -> Any:
    return client.post("/accounts/login/", {"username": login, "password": password}, **extra)
