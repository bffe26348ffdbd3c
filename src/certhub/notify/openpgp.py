"""The platform's OpenPGP key: signs outgoing mail and published documents (CSAF).

Generated with pysequoia on first use and kept in the data folder (mode 0600). The
public half is what recipients and CSAF aggregators use to verify."""

from __future__ import annotations

import os
import threading
import warnings
from functools import lru_cache
from pathlib import Path

import pysequoia
from django.conf import settings

_lock = threading.Lock()


def key_path() -> Path:
    return Path(settings.DATA_DIR) / "openpgp" / "platform-key.asc"


@lru_cache(maxsize=4)
def _load(path: str) -> pysequoia.Tsk:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return pysequoia.Tsk.from_bytes(Path(path).read_bytes())


def platform_key() -> pysequoia.Tsk:
    """The platform's secret key, generated on first use."""
    path = key_path()
    with _lock:
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            uid = f"{settings.CERTHUB_SITE_NAME} <{settings.DEFAULT_FROM_EMAIL}>"
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                secret = pysequoia.Tsk.generate(uid)
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL
            try:
                fd = os.open(path, flags, 0o600)
            except FileExistsError:
                pass  # another process won the race; use its key
            else:
                with os.fdopen(fd, "w", encoding="ascii") as handle:
                    handle.write(str(secret))
    return _load(str(path))


def public_key_armored() -> str:
    return str(platform_key().extract_certificate())


def fingerprint() -> str:
    return str(platform_key().extract_certificate().fingerprint).upper()


def sign_detached(data: bytes) -> str:
    """An ASCII-armored detached signature over ``data``."""
    signature = pysequoia.sign(
        platform_key().signer(), data, mode=pysequoia.SignatureMode.DETACHED, armor=True
    )
    return signature.decode("ascii") if isinstance(signature, bytes) else str(signature)
