"""The platform's OpenPGP key: signs outgoing mail and every published document (CSAF).

Generated with pysequoia on first use and kept in ``DATA_DIR/openpgp/platform-key.asc``
(mode 0600): the secret key never leaves the data folder; its public half is what
recipients and CSAF aggregators verify with (served at
``/.well-known/csaf/openpgp/<FINGERPRINT>.asc``). An operator who already has a signing
key places it there (ASCII-armored, no password) before first use.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path

import pysequoia
from django.conf import settings

KEY_FOLDER = "openpgp"
KEY_FILE = "platform-key.asc"

_lock = threading.Lock()
_loaded: dict[Path, tuple[float, pysequoia.Tsk]] = {}


@dataclass(frozen=True)
class PublicKey:
    fingerprint: str  # uppercase hex, as the CSAF provider metadata lists it
    armored: str


def key_path() -> Path:
    return Path(settings.DATA_DIR) / KEY_FOLDER / KEY_FILE


def _user_id() -> str:
    mailbox = getattr(settings, "DEFAULT_FROM_EMAIL", "") or "certhub@localhost"
    return f"{settings.CERTHUB_SITE_NAME} signing key <{mailbox}>"


def _generate(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    # RFC 4880 (v4) keys: every OpenPGP implementation in use today verifies them.
    key = pysequoia.Tsk.generate(_user_id(), profile=pysequoia.Profile.RFC4880)
    # Created 0600 and never over another process's key (O_EXCL fails if it exists).
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        handle.write(str(key))


def platform_key() -> pysequoia.Tsk:
    """The signing key, generated when there is none yet (re-read when the file changes)."""
    path = key_path()
    with _lock:
        if not path.exists():
            _generate(path)
        mtime = path.stat().st_mtime
        cached = _loaded.get(path)
        if cached is None or cached[0] != mtime:
            cached = (mtime, pysequoia.Tsk.from_bytes(path.read_bytes()))
            _loaded[path] = cached
        return cached[1]


def public_key() -> PublicKey:
    cert = platform_key().extract_certificate()
    return PublicKey(fingerprint=cert.fingerprint.upper(), armored=str(cert))


def sign_detached(data: bytes) -> str:
    """An ASCII-armored detached signature over ``data``."""
    signature = pysequoia.sign(
        platform_key().signer(), data, mode=pysequoia.SignatureMode.DETACHED, armor=True
    )
    return signature.decode("ascii") if isinstance(signature, bytes) else str(signature)
