"""Platform administrators manage accounts in the admin: users (never their second-factor
secret), API tokens (revoke only) and failed sign-ins (read, unlock)."""

from __future__ import annotations

import pytest

from certhub.accounts import services
from certhub.accounts.models import ApiToken, LoginFailure
from certhub.audit.models import AuditEntry
from tests.accounts.conftest import enrol

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, world):
    client.force_login(world.users["admin"])
    return client


def test_user_admin_shows_certhub_fields_but_no_secret(admin_client, world) -> None:
    analyst = world.users["banking.analyst"]
    enrol(analyst)
    response = admin_client.get(f"/admin/accounts/user/{analyst.pk}/change/")
    assert response.status_code == 200
    page = response.content.decode()
    assert 'name="is_council"' in page
    assert 'name="time_zone"' in page
    assert 'name="totp_secret"' not in page
    analyst.refresh_from_db()
    assert analyst.totp_secret not in page


def test_admin_changes_a_user_and_it_is_audited(admin_client, world) -> None:
    analyst = world.users["banking.analyst"]
    response = admin_client.get(f"/admin/accounts/user/{analyst.pk}/change/")
    form = response.context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None and k != "password"}
    data.update(
        {
            "username": analyst.username,
            "email": analyst.email,
            "time_zone": "Europe/London",
            "is_council": "on",
            "is_active": "on",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "00:00:00",
        }
    )
    data.pop("groups", None)
    data.pop("user_permissions", None)
    data.pop("last_login", None)
    response = admin_client.post(f"/admin/accounts/user/{analyst.pk}/change/", data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    analyst.refresh_from_db()
    assert analyst.is_council
    assert analyst.time_zone == "Europe/London"
    entry = AuditEntry.objects.get(action="user.update", actor_name="admin")
    assert entry.changes["time_zone"] == ["Asia/Karachi", "Europe/London"]


def test_admin_resets_a_users_second_factor(admin_client, world) -> None:
    analyst = world.users["banking.analyst"]
    enrol(analyst)
    response = admin_client.post(
        "/admin/accounts/user/",
        {"action": "reset_mfa", "_selected_action": [analyst.pk]},
    )
    assert response.status_code == 302
    analyst.refresh_from_db()
    assert not analyst.mfa_enabled


def test_admin_lists_and_revokes_tokens(admin_client, world) -> None:
    analyst = world.users["banking.analyst"]
    token, _plain = services.create_token(actor=analyst, user=analyst, name="sync")
    listing = admin_client.get("/admin/accounts/apitoken/")
    assert listing.status_code == 200
    assert "sync" in listing.content.decode()
    assert admin_client.get("/admin/accounts/apitoken/add/").status_code == 403
    response = admin_client.post(
        "/admin/accounts/apitoken/", {"action": "revoke", "_selected_action": [token.pk]}
    )
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert AuditEntry.objects.filter(action="api_token.revoke", actor_name="admin").exists()
    assert ApiToken.objects.count() == 1


def test_admin_reads_failed_sign_ins_and_lifts_a_lockout(admin_client, world) -> None:
    services.record_login_failure(
        username_key="telco.reporter", ip_address="192.0.2.1", stage="password"
    )
    listing = admin_client.get("/admin/accounts/loginfailure/")
    assert listing.status_code == 200
    assert "telco.reporter" in listing.content.decode()
    failure = LoginFailure.objects.get()
    response = admin_client.post(
        "/admin/accounts/loginfailure/", {"action": "unlock", "_selected_action": [failure.pk]}
    )
    assert response.status_code == 302
    assert not LoginFailure.objects.exists()


def test_password_never_reaches_the_audit_log(admin_client, world) -> None:
    secret_password = "a long and secret passphrase 42"
    response = admin_client.post(
        "/admin/accounts/user/add/",
        {
            "username": "new.analyst",
            "password1": secret_password,
            "password2": secret_password,
            "usable_password": "true",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    created = AuditEntry.objects.get(action="user.create", object_repr="new.analyst")
    assert secret_password not in str(created.changes)
    assert created.changes["password"] == [None, "(set)"]

    user_id = created.object_id
    response = admin_client.post(
        f"/admin/accounts/user/{user_id}/password/",
        {"password1": secret_password + "!", "password2": secret_password + "!"},
    )
    assert response.status_code == 302
    reset = AuditEntry.objects.filter(action="user.update", object_id=user_id).last()
    assert reset.changes == {"password": ["(set)", "(reset)"]}
