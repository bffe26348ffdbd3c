"""Password guessing is slowed down: after too many failures for one username, or from
one address, sign-in is refused for a while, the same way whether the account exists."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from certhub.accounts import services
from certhub.accounts.backends import UsernameOrEmailBackend
from certhub.accounts.models import LoginFailure
from certhub.audit.models import AuditEntry
from tests.accounts.conftest import enrol, sign_in
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def limits(settings):
    settings.CERTHUB_LOGIN_FAILURES_PER_USER = 3
    settings.CERTHUB_LOGIN_FAILURES_PER_IP = 5
    settings.CERTHUB_LOGIN_WINDOW_SECONDS = 600
    return settings


def fail(client, login: str, times: int, ip: str = "127.0.0.1") -> None:
    for _ in range(times):
        response = sign_in(client, login, "wrong password", REMOTE_ADDR=ip)
        assert response.status_code == 200


def test_account_is_locked_after_too_many_wrong_passwords(client, world, limits) -> None:
    fail(client, "city-bank.reporter", 3)
    response = sign_in(client, "city-bank.reporter", PASSWORD)
    assert response.status_code == 429
    assert "Too many failed sign-in attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_locked_account_is_refused_without_checking_the_password(
    client, world, limits, monkeypatch
) -> None:
    fail(client, "city-bank.reporter", 3)
    checked = []
    original = UsernameOrEmailBackend.authenticate

    def spy(self, *args, **kwargs):
        checked.append(kwargs.get("username"))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(UsernameOrEmailBackend, "authenticate", spy)
    assert sign_in(client, "city-bank.reporter", PASSWORD).status_code == 429
    assert checked == []


def test_email_and_username_share_one_count(client, world, limits) -> None:
    fail(client, "city-bank.reporter@example.org", 2)
    fail(client, "CITY-BANK.REPORTER", 1)
    assert sign_in(client, "city-bank.reporter", PASSWORD).status_code == 429


def test_locked_message_is_the_same_for_unknown_usernames(client, world, limits) -> None:
    fail(client, "city-bank.reporter", 3, ip="192.0.2.10")
    fail(client, "no-such-person", 3, ip="192.0.2.11")
    known = sign_in(client, "city-bank.reporter", "guess", REMOTE_ADDR="192.0.2.10")
    unknown = sign_in(client, "no-such-person", "guess", REMOTE_ADDR="192.0.2.11")
    assert known.status_code == unknown.status_code == 429
    assert known.context["error"] == unknown.context["error"]
    assert "Too many failed sign-in attempts" in unknown.context["error"]


def test_one_address_is_locked_after_failures_on_many_usernames(client, world, limits) -> None:
    for name in ("a", "b", "c", "d", "e"):
        fail(client, name, 1, ip="203.0.113.9")
    from_there = sign_in(client, "city-bank.reporter", PASSWORD, REMOTE_ADDR="203.0.113.9")
    assert from_there.status_code == 429
    elsewhere = sign_in(client, "city-bank.reporter", PASSWORD, REMOTE_ADDR="203.0.113.10")
    assert elsewhere.status_code == 302


def test_failures_older_than_the_window_do_not_count(client, world, limits) -> None:
    fail(client, "city-bank.reporter", 3)
    LoginFailure.objects.update(occurred_at=timezone.now() - dt.timedelta(seconds=601))
    assert sign_in(client, "city-bank.reporter", PASSWORD).status_code == 302


def test_successful_sign_in_clears_the_username_failures(client, world, limits) -> None:
    fail(client, "city-bank.reporter", 2)
    assert sign_in(client, "city-bank.reporter", PASSWORD).status_code == 302
    assert not LoginFailure.objects.filter(username_key="city-bank.reporter").exists()
    client.logout()
    fail(client, "city-bank.reporter", 2)
    assert sign_in(client, "city-bank.reporter", PASSWORD).status_code == 302


def test_failures_and_the_lockout_are_audited(client, world, limits) -> None:
    fail(client, "city-bank.reporter", 3)
    sign_in(client, "city-bank.reporter", PASSWORD)
    assert AuditEntry.objects.filter(action="user.login_fail").count() == 3
    lockout = AuditEntry.objects.get(action="user.lockout")
    assert lockout.actor_id is None
    assert lockout.object_repr == "city-bank.reporter"
    assert lockout.changes["scope"] == [None, "username"]


def test_wrong_codes_count_towards_the_lockout(client, world, limits) -> None:
    reporter = world.users["city-bank.reporter"]
    enrol(reporter)
    assert sign_in(client, "city-bank.reporter", PASSWORD).status_code == 302
    for _ in range(3):
        response = client.post("/accounts/login/verify/", {"code": "000000"})
        assert response.status_code == 200
    response = client.post("/accounts/login/verify/", {"code": "123456"})
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_administrator_lifts_a_lockout(client, world, limits) -> None:
    fail(client, "city-bank.reporter", 3)
    services.unlock_login(actor=world.users["admin"], username_key="city-bank.reporter")
    assert sign_in(client, "city-bank.reporter", PASSWORD).status_code == 302
    assert AuditEntry.objects.filter(action="user.unlock", actor_name="admin").exists()
