"""API tokens: made on the account page or with `certhub token`, shown once, used as
`Authorization: Bearer <token>`, revoked by their owner only."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from certhub.accounts import services
from certhub.accounts.models import ApiToken
from certhub.accounts.tokens import hash_token
from certhub.audit.models import AuditEntry
from certhub.core.errors import Invalid

pytestmark = pytest.mark.django_db


def me(client, token: str):
    return client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})


def test_token_from_the_service_authenticates_the_api(client, world) -> None:
    analyst = world.users["banking.analyst"]
    token, plain = services.create_token(
        actor=analyst, user=analyst, name="siem", expires_in_days=30
    )
    assert plain.startswith("chb_")
    assert token.prefix == plain[:10]
    assert token.token_hash == hash_token(plain)
    assert plain not in {token.token_hash, token.prefix}
    response = me(client, plain)
    assert response.status_code == 200
    assert response.json()["username"] == "banking.analyst"
    token.refresh_from_db()
    assert token.last_used_at is not None
    created = AuditEntry.objects.get(action="api_token.create", object_id=str(token.pk))
    assert created.actor_name == "banking.analyst"
    assert plain not in str(created.changes)


def test_revoked_token_is_refused(client, world) -> None:
    analyst = world.users["banking.analyst"]
    token, plain = services.create_token(actor=analyst, user=analyst, name="old script")
    services.revoke_token(actor=analyst, token=token)
    response = me(client, plain)
    assert response.status_code == 401
    assert "detail" in response.json()
    assert AuditEntry.objects.filter(action="api_token.revoke", object_id=str(token.pk)).exists()


def test_expired_token_is_refused(client, world) -> None:
    analyst = world.users["banking.analyst"]
    token, plain = services.create_token(actor=analyst, user=analyst, name="ci", expires_in_days=1)
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - dt.timedelta(hours=1))
    assert me(client, plain).status_code == 401


@pytest.mark.parametrize(
    "header",
    ["Bearer", "Bearer ", "Token abc", "Bearer chb_not-a-real-token", "chb_x", "Basic Zm9v"],
)
def test_malformed_or_unknown_authorization_is_a_json_401(client, world, header) -> None:
    response = client.get("/api/v1/me", headers={"Authorization": header})
    assert response.status_code == 401
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["detail"]


def test_token_of_a_deactivated_user_is_refused(client, world) -> None:
    analyst = world.users["banking.analyst"]
    _token, plain = services.create_token(actor=analyst, user=analyst, name="x")
    analyst.is_active = False
    analyst.save()
    assert me(client, plain).status_code == 401


@pytest.mark.parametrize("days", [0, -5, 100_000, True])
def test_token_lifetime_must_be_sensible(world, days) -> None:
    analyst = world.users["banking.analyst"]
    with pytest.raises(Invalid):
        services.create_token(actor=analyst, user=analyst, name="x", expires_in_days=days)


def test_token_needs_a_name(world) -> None:
    analyst = world.users["banking.analyst"]
    with pytest.raises(Invalid):
        services.create_token(actor=analyst, user=analyst, name="   ")


# --- The command line ---------------------------------------------------------------------


def test_operator_creates_a_token_on_the_command_line(client, world) -> None:
    out = io.StringIO()
    call_command(
        "token", "create", "telecom.analyst", "--name", "feed sync", "--expires", "7", stdout=out
    )
    printed = out.getvalue()
    plain = printed.strip()
    assert printed == plain + "\n"
    assert plain.startswith("chb_")
    token = ApiToken.objects.get(token_hash=hash_token(plain))
    assert token.name == "feed sync"
    assert token.user.username == "telecom.analyst"
    assert dt.timedelta(days=6) < token.expires_at - timezone.now() <= dt.timedelta(days=7)
    assert me(client, plain).json()["username"] == "telecom.analyst"


def test_operator_lists_and_revokes_by_prefix(client, world) -> None:
    out = io.StringIO()
    call_command("token", "create", "telecom.analyst", stdout=out)
    plain = out.getvalue().strip()
    listing = io.StringIO()
    call_command("token", "list", "telecom.analyst", stdout=listing)
    assert plain[:10] in listing.getvalue()
    assert plain not in listing.getvalue()
    assert "active" in listing.getvalue()

    revoked = io.StringIO()
    call_command("token", "revoke", plain[:10], stdout=revoked)
    assert "revoked" in revoked.getvalue()
    assert me(client, plain).status_code == 401


def test_operator_revokes_by_id(world) -> None:
    analyst = world.users["banking.analyst"]
    token, _plain = services.create_token(actor=None, user=analyst, name="x")
    call_command("token", "revoke", str(token.pk), stdout=io.StringIO())
    token.refresh_from_db()
    assert token.revoked_at is not None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["create", "no-such-user"], "no user"),
        (["create", "telecom.analyst", "--expires", "-3"], "1 to"),
        (["create", "telecom.analyst", "--name", ""], "name"),
        (["list", "no-such-user"], "no user"),
        (["revoke", "chb_nothere"], "No API token"),
        (["revoke", "99999999999999999999999"], "No API token"),
    ],
)
def test_command_mistakes_are_explained(world, args, message) -> None:
    with pytest.raises(CommandError, match=message):
        call_command("token", *args, stdout=io.StringIO())


def test_command_mistake_exits_non_zero_without_traceback(world, capsys) -> None:
    from django.core.management import ManagementUtility

    with pytest.raises(SystemExit) as exited:
        ManagementUtility(["certhub", "token", "create", "no-such-user"]).execute()
    assert exited.value.code != 0
    err = capsys.readouterr().err
    assert "There is no user no-such-user" in err
    assert "Traceback" not in err


# --- The account page ---------------------------------------------------------------------


def test_user_creates_a_token_on_the_account_page_and_sees_it_once(client, world) -> None:
    reporter = world.users["city-bank.reporter"]
    client.force_login(reporter)
    response = client.post("/accounts/tokens/", {"name": "ticket bridge", "expires_in_days": "90"})
    assert response.status_code == 200
    plain = response.context["new_token"]
    assert plain in response.content.decode()
    assert response["Cache-Control"].count("no-store") == 1
    assert me(client.__class__(), plain).status_code == 200

    page = client.get("/accounts/").content.decode()
    assert "ticket bridge" in page
    assert plain[:10] in page
    assert plain not in page


def test_bad_token_form_is_explained(client, world) -> None:
    client.force_login(world.users["city-bank.reporter"])
    response = client.post("/accounts/tokens/", {"name": "", "expires_in_days": "-1"})
    assert response.status_code == 400
    assert not ApiToken.objects.exists()


def test_user_revokes_its_token_on_the_account_page(client, world) -> None:
    reporter = world.users["city-bank.reporter"]
    token, plain = services.create_token(actor=reporter, user=reporter, name="x")
    client.force_login(reporter)
    response = client.post(f"/accounts/tokens/{token.pk}/revoke/")
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert me(client.__class__(), plain).status_code == 401


def test_revoking_with_htmx_returns_the_updated_row(client, world) -> None:
    reporter = world.users["city-bank.reporter"]
    token, _plain = services.create_token(actor=reporter, user=reporter, name="x")
    client.force_login(reporter)
    response = client.post(f"/accounts/tokens/{token.pk}/revoke/", headers={"HX-Request": "true"})
    assert response.status_code == 200
    row = response.content.decode()
    assert row.lstrip().startswith(f'<tr id="token-{token.pk}">')
    assert "revoked" in row


def test_user_cannot_revoke_another_users_token(client, world) -> None:
    owner = world.users["banking.analyst"]
    token, plain = services.create_token(actor=owner, user=owner, name="x")
    client.force_login(world.users["city-bank.reporter"])
    response = client.post(f"/accounts/tokens/{token.pk}/revoke/")
    assert response.status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None
    assert client.post("/accounts/tokens/999999999/revoke/").status_code == 404
    assert me(client.__class__(), plain).status_code == 200


def test_account_page_lists_only_the_users_own_tokens(client, world) -> None:
    owner = world.users["banking.analyst"]
    services.create_token(actor=owner, user=owner, name="someone else's")
    client.force_login(world.users["city-bank.reporter"])
    page = client.get("/accounts/").content.decode()
    assert "someone else" not in page
    assert "You have no API tokens." in page
