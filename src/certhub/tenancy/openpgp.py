"""Reading contacts' OpenPGP public keys (pysequoia: no gpg binary needed)."""

from __future__ import annotations

import datetime as dt
import warnings
from dataclasses import dataclass

import pysequoia
from django.utils.translation import gettext as _

from certhub.core.errors import Invalid

MAX_KEY_BYTES = 200_000


@dataclass(frozen=True)
class PublicKeyInfo:
    armored: str
    fingerprint: str
    user_ids: list[str]
    expires_at: dt.datetime | None


def inspect_public_key(armored: str) -> PublicKeyInfo:
    """Parse an armored public key; refuse garbage, secret keys, revoked keys and
    keys already expired, with a message the person pasting it understands."""
    text = armored.strip()
    if len(text.encode()) > MAX_KEY_BYTES:
        raise Invalid(_("The OpenPGP key is too large."))
    if "-----BEGIN PGP PUBLIC KEY BLOCK-----" not in text:
        raise Invalid(_("Paste an ASCII-armored OpenPGP public key (BEGIN PGP PUBLIC KEY BLOCK)."))
    try:
        cert = pysequoia.Cert.from_bytes(text.encode())
    except (RuntimeError, ValueError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise Invalid(_("The OpenPGP key cannot be read: %(reason)s") % {"reason": reason}) from exc
    with warnings.catch_warnings():
        # pysequoia deprecates the attribute in favour of its Tsk type, but has no
        # other way to ask whether parsed material carries secret keys.
        warnings.simplefilter("ignore", DeprecationWarning)
        has_secrets = cert.has_secret_keys
    if has_secrets:
        raise Invalid(_("This is a secret key. Paste only the public key."))
    if cert.is_revoked:
        raise Invalid(_("This OpenPGP key has been revoked."))
    expires_at = cert.expiration
    if expires_at is not None and expires_at <= dt.datetime.now(dt.UTC):
        raise Invalid(_("This OpenPGP key expired on %(date)s.") % {"date": expires_at.date()})
    return PublicKeyInfo(
        armored=str(cert),
        fingerprint=cert.fingerprint.upper(),
        user_ids=[str(uid.value) if hasattr(uid, "value") else str(uid) for uid in cert.user_ids],
        expires_at=expires_at,
    )
