"""Turn the process environment into settings values.

Everything that varies between a laptop quick start and a production installation is
read here, once, so that ``settings.py`` stays declarative and tests can call these
functions with a fake environment.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off", ""}


def env_bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    """Read a yes/no variable; anything unrecognised is a configuration error."""
    raw = env.get(name)
    if raw is None:
        return default
    word = raw.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {raw!r}")


def env_int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}") from exc


def env_list(env: Mapping[str, str], name: str, default: list[str]) -> list[str]:
    raw = env.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def data_dir(env: Mapping[str, str]) -> Path:
    """The folder holding the SQLite file, the secret key and uploaded files."""
    path = Path(env.get("CERTHUB_DATA_DIR") or Path.cwd() / "data").expanduser().resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def database_config(env: Mapping[str, str], folder: Path) -> dict[str, Any]:
    """The one place that turns the environment into ``DATABASES``.

    SQLite in the data folder unless ``CERTHUB_DATABASE_URL`` names another database.
    SQLite runs in WAL mode with a busy timeout and IMMEDIATE transactions so that the
    web process and the task worker can write concurrently without "database is locked".
    """
    url = env.get("CERTHUB_DATABASE_URL", "").strip()
    if url:
        try:
            config = dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True)
        except ValueError as exc:
            raise ImproperlyConfigured(f"CERTHUB_DATABASE_URL is not usable: {exc}") from exc
        if config.get("ENGINE") == "django.db.backends.postgresql":
            config.setdefault("OPTIONS", {})
            config.setdefault("TEST", {})
        return {"default": config}
    return {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": folder / "certhub.sqlite3",
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": (
                    "PRAGMA journal_mode=WAL;"
                    "PRAGMA synchronous=NORMAL;"
                    "PRAGMA foreign_keys=ON;"
                    "PRAGMA busy_timeout=20000;"
                ),
            },
        }
    }


def secret_key(env: Mapping[str, str], folder: Path) -> str:
    """``CERTHUB_SECRET_KEY``, or one generated on first start and kept in the data folder."""
    configured = env.get("CERTHUB_SECRET_KEY", "").strip()
    if configured:
        return configured
    key_file = folder / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    key = secrets.token_urlsafe(50)
    # Create with 0600 and without clobbering a key another process wrote meanwhile.
    try:
        with key_file.open("x", encoding="ascii") as handle:
            key_file.chmod(0o600)
            handle.write(key)
    except FileExistsError:
        return key_file.read_text().strip()
    return key


def email_config(env: Mapping[str, str]) -> dict[str, Any]:
    """``MAILERS``: SMTP when ``CERTHUB_SMTP_HOST`` is set, otherwise mail is printed to
    the console (the quick start needs no mail server)."""
    host = env.get("CERTHUB_SMTP_HOST", "").strip()
    if not host:
        return {"default": {"BACKEND": "django.core.mail.backends.console.EmailBackend"}}
    try:
        port = int(env.get("CERTHUB_SMTP_PORT", "25"))
    except ValueError as exc:
        raise ImproperlyConfigured("CERTHUB_SMTP_PORT must be a number") from exc
    return {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": host,
                "port": port,
                "username": env.get("CERTHUB_SMTP_USER", ""),
                "password": env.get("CERTHUB_SMTP_PASSWORD", ""),
                "use_tls": env_bool(env, "CERTHUB_SMTP_STARTTLS", False),
                "use_ssl": env_bool(env, "CERTHUB_SMTP_SSL", False),
                "timeout": 30,
            },
        }
    }
