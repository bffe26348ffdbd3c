"""Signing in with a username or an e-mail address and a password, and signing out."""

from __future__ import annotations

import pytest

from certhub.audit.models import AuditEntry
from tests.accounts.conftest import sign_in
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def test_login_page_asks_for_username_and_password(client) -> None:
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    page = response.content.decode()
    assert 'name="username"' in page
    assert 'name="password"' in page
    assert "Sign in</button>" in page


def test_reporter_signs_in_with_username(client, world) -> None:
    response = sign_in(client, "city-bank.reporter", PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.get("/accounts/").context["user"].username == "city-bank.reporter"
    assert AuditEntry.objects.filter(action="user.login", actor_name="city-bank.reporter").exists()


def test_reporter_signs_in_with_email_in_any_case(client, world) -> None:
    response = sign_in(client, "City-Bank.Reporter@Example.org", PASSWORD)
    assert response.status_code == 302
    assert client.get("/accounts/").context["user"].username == "city-bank.reporter"


def test_wrong_password_is_refused_and_recorded(client, world) -> None:
    response = sign_in(client, "city-bank.reporter", "not the password")
    assert response.status_code == 200
    assert "do not match an account" in response.content.decode()
    assert "_auth_user_id" not in client.session
    failure = AuditEntry.objects.get(action="user.login_fail")
    assert failure.actor_id is None
    assert failure.object_repr == "city-bank.reporter"
    assert failure.changes["ip_address"] == [None, "127.0.0.1"]


def test_empty_form_is_not_counted_as_a_failed_password(client, world) -> None:
    response = client.post("/accounts/login/", {"username": "", "password": ""})
    assert response.status_code == 200
    assert not AuditEntry.objects.filter(action="user.login_fail").exists()


def test_deactivated_user_cannot_sign_in(client, world) -> None:
    reporter = world.users["city-bank.reporter"]
    reporter.is_active = False
    reporter.save()
    response = sign_in(client, "city-bank.reporter", PASSWORD)
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_sign_in_returns_to_the_page_asked_for(client, world) -> None:
    response = client.post(
        "/accounts/login/",
        {"username": "city-bank.reporter", "password": PASSWORD, "next": "/accounts/"},
    )
    assert response["Location"] == "/accounts/"


def test_sign_in_never_redirects_to_another_site(client, world) -> None:
    for target in ("https://evil.example/", "//evil.example/x", "javascript:alert(1)"):
        client.logout()
        response = client.post(
            "/accounts/login/",
            {"username": "city-bank.reporter", "password": PASSWORD, "next": target},
        )
        assert response.status_code == 302
        assert response["Location"] == "/", target


def test_sign_out_needs_a_post(client, world) -> None:
    client.force_login(world.users["city-bank.reporter"])
    assert client.get("/accounts/logout/").status_code == 405
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/"
    assert "_auth_user_id" not in client.session


def test_signed_in_user_visiting_login_goes_home(client, world) -> None:
    client.force_login(world.users["city-bank.reporter"])
    response = client.get("/accounts/login/")
    assert response.status_code == 302
