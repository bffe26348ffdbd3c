"""API token format and hashing (no database)."""

from __future__ import annotations

import hashlib
import secrets

TOKEN_PREFIX = "chb_"


def new_token() -> str:
    """A token with 256 bits of randomness, recognisable by its ``chb_`` prefix."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    # Tokens are long random strings, so a fast hash is enough (no dictionary to guess from).
    return hashlib.sha256(token.encode()).hexdigest()


def display_prefix(token: str) -> str:
    return token[: len(TOKEN_PREFIX) + 6]
