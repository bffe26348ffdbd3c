"""Shared test set-up. Every test builds its own data (factories.py); none depends on
another test's rows."""

from __future__ import annotations

import os
import shutil
from typing import Any

import pytest

from tests.factories import World, build_world

CHROMIUM = "/usr/bin/chromium"
# Headless Debian Chromium on a machine without network: no background traffic at all.
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(autouse=True)
def _fast_passwords(settings: Any) -> None:
    # Argon2 is deliberately slow; tests check behaviour, not hashing cost.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def world(db: Any) -> World:
    return build_world()


def require_chromium() -> str:
    """Path of Debian's Chromium. Outside CI a missing browser skips the test (saying so);
    in CI (CI=true) it fails, because CI installs it and must never skip."""
    path = shutil.which("chromium") or (CHROMIUM if os.path.exists(CHROMIUM) else None)
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("Chromium is missing in CI: .ci/run must install Debian's chromium")
        pytest.skip("needs Debian's chromium (apt-get install chromium); CI installs it")
    return path


def launch_chromium(playwright: Any) -> Any:
    """Debian's Chromium under Playwright (never a downloaded browser). Also lets the ORM
    run in the test thread, where Playwright's sync API keeps an event loop."""
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    return playwright.chromium.launch(executable_path=require_chromium(), args=CHROMIUM_ARGS)


from tests.smtp import smtp_server  # noqa: E402,F401 - a fixture for every test folder


class _OneRequestAtATime:
    """The live server's WSGI application behind a lock. On SQLite the test database
    lives in memory, and the live server's threads share its one connection: a browser
    that fetches a page's images in parallel would use it from two threads at once
    ("bad parameter or other API misuse"). A real database file (WAL, busy timeout)
    or PostgreSQL gives each thread its own connection and needs no lock."""

    def __init__(self, application: Any) -> None:
        import threading

        self.application = application
        self.lock = threading.Lock()

    def __call__(self, environ: Any, start_response: Any) -> Any:
        with self.lock:
            # The whole response inside the lock: a streamed one reads the database while
            # it is sent, and closing it (request_finished) touches the connection too.
            response = self.application(environ, start_response)
            try:
                return list(response)
            finally:
                if hasattr(response, "close"):
                    response.close()


@pytest.fixture(scope="session")
def live_server(live_server: Any) -> Any:
    from django.db import connection

    if connection.vendor == "sqlite":
        server = live_server.thread.httpd
        if not isinstance(server.get_app(), _OneRequestAtATime):
            server.set_app(_OneRequestAtATime(server.get_app()))
    return live_server
