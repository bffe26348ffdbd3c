"""The project as an operator meets it: settings from the environment, migrations in
step with the models, production-safe defaults."""

from __future__ import annotations

import io
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command

from certhub import config


def test_models_and_migrations_are_in_step(db) -> None:
    out = io.StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=out)
    assert "No changes detected" in out.getvalue()


def test_sqlite_by_default_with_wal_busy_timeout_and_immediate_transactions(tmp_path: Path) -> None:
    databases = config.database_config({}, tmp_path)
    default = databases["default"]
    assert default["ENGINE"] == "django.db.backends.sqlite3"
    assert default["NAME"] == tmp_path / "certhub.sqlite3"
    assert default["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    assert "journal_mode=WAL" in default["OPTIONS"]["init_command"]
    assert "busy_timeout" in default["OPTIONS"]["init_command"]


def test_database_url_selects_postgresql(tmp_path: Path) -> None:
    env = {"CERTHUB_DATABASE_URL": "postgresql://certhub:s3cret@db.internal:5433/certhub"}
    default = config.database_config(env, tmp_path)["default"]
    assert default["ENGINE"] == "django.db.backends.postgresql"
    assert (default["HOST"], default["PORT"], default["NAME"], default["USER"]) == (
        "db.internal",
        5433,
        "certhub",
        "certhub",
    )


def test_unusable_database_url_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ImproperlyConfigured):
        config.database_config({"CERTHUB_DATABASE_URL": "nosuchdb://x"}, tmp_path)


def test_secret_key_is_generated_once_and_kept_private(tmp_path: Path) -> None:
    first = config.secret_key({}, tmp_path)
    assert len(first) >= 50
    assert config.secret_key({}, tmp_path) == first
    mode = stat.S_IMODE((tmp_path / "secret_key").stat().st_mode)
    assert mode == 0o600
    assert config.secret_key({"CERTHUB_SECRET_KEY": "from-env"}, tmp_path) == "from-env"


def test_mail_goes_to_the_console_unless_smtp_is_configured() -> None:
    assert config.email_config({})["default"]["BACKEND"].endswith("console.EmailBackend")
    smtp = config.email_config({"CERTHUB_SMTP_HOST": "127.0.0.1", "CERTHUB_SMTP_PORT": "2525"})[
        "default"
    ]
    assert smtp["BACKEND"].endswith("smtp.EmailBackend")
    assert smtp["OPTIONS"]["host"] == "127.0.0.1"
    assert smtp["OPTIONS"]["port"] == 2525
    with pytest.raises(ImproperlyConfigured):
        config.email_config({"CERTHUB_SMTP_HOST": "x", "CERTHUB_SMTP_PORT": "twenty-five"})


def test_booleans_are_strict() -> None:
    assert config.env_bool({"X": "yes"}, "X", False) is True
    assert config.env_bool({"X": "off"}, "X", True) is False
    assert config.env_bool({}, "X", True) is True
    with pytest.raises(ImproperlyConfigured):
        config.env_bool({"X": "maybe"}, "X", False)


def _settings_in_subprocess(env: dict[str, str], expression: str) -> str:
    """Import the settings module fresh with ``env``, as a new process would."""
    code = f"import certhub.settings as s; print(repr(({expression})))"
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("CERTHUB_")}
    full_env.update(env)
    result = subprocess.run(
        [sys.executable, "-c", code], env=full_env, capture_output=True, text=True, check=True
    )
    return result.stdout.strip()


def test_production_defaults_are_safe(tmp_path: Path) -> None:
    out = _settings_in_subprocess(
        {"CERTHUB_DATA_DIR": str(tmp_path)},
        "s.DEBUG, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS > 0, "
        "s.CERTHUB_REQUIRE_MFA, bool(s.SECURE_CSP), s.CERTHUB_REFERENCE_PREFIX",
    )
    assert out == "(False, True, True, True, True, True, 'CERT')"


def test_demo_mode_serves_plain_http_on_localhost(tmp_path: Path) -> None:
    out = _settings_in_subprocess(
        {
            "CERTHUB_DATA_DIR": str(tmp_path),
            "CERTHUB_DEMO": "1",
            "CERTHUB_REFERENCE_PREFIX": "PKCERT",
        },
        "s.DEBUG, s.SESSION_COOKIE_SECURE, s.CERTHUB_REQUIRE_MFA, s.CERTHUB_REFERENCE_PREFIX",
    )
    assert out == "(False, False, False, 'PKCERT')"


def test_allowed_hosts_come_from_the_environment(tmp_path: Path) -> None:
    out = _settings_in_subprocess(
        {
            "CERTHUB_DATA_DIR": str(tmp_path),
            "CERTHUB_ALLOWED_HOSTS": "cert.example, certhub.example",
        },
        "s.ALLOWED_HOSTS",
    )
    assert out == "['cert.example', 'certhub.example']"


def test_certhub_command_is_the_manage_py(tmp_path: Path) -> None:
    certhub = Path(sys.executable).with_name("certhub")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CERTHUB_")}
    env["CERTHUB_DATA_DIR"] = str(tmp_path)
    result = subprocess.run(
        [str(certhub), "help"], env=env, capture_output=True, text=True, check=True
    )
    for command in ("migrate", "runserver", "audit", "db_worker"):
        assert command in result.stdout


def test_every_response_carries_security_headers(client, db) -> None:
    response = client.get("/accounts/login/")
    assert "default-src 'self'" in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
