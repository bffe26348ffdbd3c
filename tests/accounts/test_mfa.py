"""The second factor: enrolling an authenticator app, signing in with its codes (never the
same code twice), recovery codes, and the requirement for CERT staff."""

from __future__ import annotations

import re

import pyotp
import pytest

from certhub.accounts import mfa, services
from certhub.accounts.models import RecoveryCode
from certhub.audit.models import AuditEntry
from tests.accounts.conftest import enrol, next_code, sign_in
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

RECOVERY_RE = re.compile(r"^[a-z]{4}-[a-z]{4}-[a-z]{4}$")


def test_reporter_enrols_and_signs_in_with_a_totp_code(client, world) -> None:
    reporter = world.users["city-bank.reporter"]
    client.force_login(reporter)

    page = client.get("/accounts/mfa/setup/")
    assert page.status_code == 200
    secret = page.context["secret"]
    html = page.content.decode()
    assert "<svg" in html
    assert " ".join(page.context["secret_groups"]) in html
    # Reloading keeps the secret (the QR code scanned stays valid until confirmed).
    assert client.get("/accounts/mfa/setup/").context["secret"] == secret

    confirmed = client.post("/accounts/mfa/setup/", {"code": pyotp.TOTP(secret).now()})
    assert confirmed.status_code == 200
    codes = confirmed.context["codes"]
    assert len(codes) == 10
    assert all(RECOVERY_RE.match(code) for code in codes)
    assert all(code in confirmed.content.decode() for code in codes)
    reporter.refresh_from_db()
    assert reporter.mfa_enabled
    assert reporter.totp_secret == secret
    # Stored hashed only.
    stored = list(RecoveryCode.objects.filter(user=reporter).values_list("code_hash", flat=True))
    assert len(stored) == 10
    assert not set(codes) & set(stored)
    assert AuditEntry.objects.filter(action="user.mfa_enable", object_id=str(reporter.pk)).exists()

    client.post("/accounts/logout/")
    response = sign_in(client, "city-bank.reporter", PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/verify/"
    assert "_auth_user_id" not in client.session

    response = client.post("/accounts/login/verify/", {"code": next_code(secret)})
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.session["_auth_user_id"] == str(reporter.pk)


def test_wrong_code_at_enrolment_keeps_mfa_off(client, world) -> None:
    reporter = world.users["city-bank.reporter"]
    client.force_login(reporter)
    client.get("/accounts/mfa/setup/")
    response = client.post("/accounts/mfa/setup/", {"code": "000000"})
    assert response.status_code == 400
    assert "not right" in response.content.decode()
    reporter.refresh_from_db()
    assert not reporter.mfa_enabled


def test_password_alone_does_not_sign_in_an_enrolled_user(client, world) -> None:
    enrol(world.users["city-bank.reporter"])
    sign_in(client, "city-bank.reporter", PASSWORD)
    assert client.get("/accounts/").status_code == 302
    assert "_auth_user_id" not in client.session


def test_a_totp_code_cannot_be_replayed(client, world) -> None:
    secret = enrol(world.users["city-bank.reporter"])
    code = next_code(secret)
    sign_in(client, "city-bank.reporter", PASSWORD)
    assert client.post("/accounts/login/verify/", {"code": code}).status_code == 302

    other = client.__class__()
    sign_in(other, "city-bank.reporter", PASSWORD)
    response = other.post("/accounts/login/verify/", {"code": code})
    assert response.status_code == 200
    assert "already used" in response.content.decode()
    assert "_auth_user_id" not in other.session


def test_the_enrolment_code_cannot_be_used_to_sign_in(client, world) -> None:
    reporter = world.users["city-bank.reporter"]
    secret = pyotp.random_base32()
    code = pyotp.TOTP(secret).now()
    services.enable_mfa(actor=reporter, user=reporter, secret=secret, code=code)
    sign_in(client, "city-bank.reporter", PASSWORD)
    response = client.post("/accounts/login/verify/", {"code": code})
    assert "_auth_user_id" not in client.session
    assert response.status_code == 200


def test_code_outside_the_drift_window_is_refused(world) -> None:
    secret = pyotp.random_base32()
    totp = pyotp.TOTP(secret)
    now = 1_800_000_000
    assert mfa.matching_step(secret, totp.at(now - 30), at=now) is not None
    assert mfa.matching_step(secret, totp.at(now + 30), at=now) is not None
    assert mfa.matching_step(secret, totp.at(now - 60), at=now) is None
    assert mfa.matching_step(secret, totp.at(now + 60), at=now) is None
    # Authenticator apps show "123 456": the space is ignored.
    code = totp.at(now)
    assert mfa.matching_step(secret, f"{code[:3]} {code[3:]}", at=now) is not None


def test_a_recovery_code_works_once(client, world) -> None:
    reporter = world.users["city-bank.reporter"]
    client.force_login(reporter)
    secret = client.get("/accounts/mfa/setup/").context["secret"]
    codes = client.post("/accounts/mfa/setup/", {"code": pyotp.TOTP(secret).now()}).context["codes"]
    client.post("/accounts/logout/")

    sign_in(client, "city-bank.reporter", PASSWORD)
    # Typed in capitals with spaces, as read from paper.
    typed = codes[3].upper().replace("-", " ")
    response = client.post("/accounts/login/verify/", {"code": typed}, follow=True)
    assert client.session["_auth_user_id"] == str(reporter.pk)
    assert "9 are left" in response.content.decode()
    assert AuditEntry.objects.filter(action="user.recovery_code_use").count() == 1
    client.post("/accounts/logout/")

    sign_in(client, "city-bank.reporter", PASSWORD)
    response = client.post("/accounts/login/verify/", {"code": codes[3]})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_the_code_step_expires_after_some_minutes(client, world) -> None:
    secret = enrol(world.users["city-bank.reporter"])
    sign_in(client, "city-bank.reporter", PASSWORD)
    session = client.session
    session["certhub_pending_login"]["since"] -= 3600
    session.save()
    response = client.post("/accounts/login/verify/", {"code": next_code(secret)})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/"
    assert "_auth_user_id" not in client.session


def test_verify_page_without_a_password_first_goes_to_sign_in(client, world) -> None:
    response = client.get("/accounts/login/verify/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/"


def test_next_page_survives_the_code_step(client, world) -> None:
    secret = enrol(world.users["city-bank.reporter"])
    client.post(
        "/accounts/login/",
        {"username": "city-bank.reporter", "password": PASSWORD, "next": "/accounts/"},
    )
    response = client.post("/accounts/login/verify/", {"code": next_code(secret)})
    assert response["Location"] == "/accounts/"


def test_reporter_turns_mfa_off_with_password_and_code(client, world) -> None:
    reporter = world.users["city-bank.reporter"]
    secret = enrol(reporter)
    client.force_login(reporter)
    refused = client.post(
        "/accounts/mfa/disable/", {"password": "wrong", "code": next_code(secret)}
    )
    assert refused.status_code == 400
    reporter.refresh_from_db()
    assert reporter.mfa_enabled

    response = client.post(
        "/accounts/mfa/disable/", {"password": PASSWORD, "code": next_code(secret)}
    )
    assert response.status_code == 302
    reporter.refresh_from_db()
    assert not reporter.mfa_enabled
    assert not RecoveryCode.objects.filter(user=reporter).exists()
    assert AuditEntry.objects.filter(action="user.mfa_disable").exists()


def test_new_recovery_codes_replace_the_old_ones(client, world) -> None:
    reporter = world.users["city-bank.reporter"]
    secret = enrol(reporter)
    old_hashes = set(RecoveryCode.objects.filter(user=reporter).values_list("code_hash", flat=True))
    client.force_login(reporter)
    assert client.post("/accounts/mfa/recovery-codes/", {"code": "000000"}).status_code == 400
    response = client.post("/accounts/mfa/recovery-codes/", {"code": next_code(secret)})
    assert response.status_code == 200
    assert len(response.context["codes"]) == 10
    new_hashes = set(RecoveryCode.objects.filter(user=reporter).values_list("code_hash", flat=True))
    assert len(new_hashes) == 10
    assert not old_hashes & new_hashes


# --- The requirement for CERT staff ------------------------------------------------------


@pytest.fixture
def mfa_required(settings):
    settings.CERTHUB_REQUIRE_MFA = True


def test_cert_analyst_without_mfa_is_sent_to_setup(client, world, mfa_required) -> None:
    client.force_login(world.users["banking.analyst"])
    for path in ("/directory/", "/accounts/", "/admin/"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"] == "/accounts/mfa/setup/"
    assert client.get("/accounts/mfa/setup/").status_code == 200
    assert client.post("/accounts/logout/").status_code == 302


def test_platform_admin_without_mfa_is_sent_to_setup(client, world, mfa_required) -> None:
    client.force_login(world.users["admin"])
    response = client.get("/accounts/")
    assert response["Location"] == "/accounts/mfa/setup/"


def test_organization_reporter_is_not_required_to_enrol(client, world, mfa_required) -> None:
    client.force_login(world.users["city-bank.reporter"])
    response = client.get("/accounts/")
    assert response.status_code == 200
    assert "Set up two-factor authentication" in response.content.decode()


def test_analyst_with_mfa_reaches_pages(client, world, mfa_required) -> None:
    analyst = world.users["banking.analyst"]
    enrol(analyst)
    client.force_login(analyst)
    assert client.get("/accounts/").status_code == 200


def test_analyst_session_without_mfa_is_refused_by_the_api(client, world, mfa_required) -> None:
    client.force_login(world.users["banking.analyst"])
    response = client.get("/api/v1/me")
    assert response.status_code == 403
    assert "two-factor" in response.json()["detail"]


def test_required_mfa_cannot_be_turned_off(client, world, mfa_required) -> None:
    analyst = world.users["banking.analyst"]
    secret = enrol(analyst)
    client.force_login(analyst)
    page = client.get("/accounts/").content.decode()
    assert "cannot be turned off" in page
    response = client.post(
        "/accounts/mfa/disable/", {"password": PASSWORD, "code": next_code(secret)}
    )
    assert response.status_code == 403
    analyst.refresh_from_db()
    assert analyst.mfa_enabled


def test_analyst_signing_in_without_mfa_lands_on_setup(client, world, mfa_required) -> None:
    response = sign_in(client, "banking.analyst", PASSWORD, follow=True)
    assert response.redirect_chain[-1][0] == "/accounts/mfa/setup/"
    assert response.status_code == 200
    assert "requires a second factor" in response.content.decode()


def test_administrator_resets_a_lost_second_factor(world) -> None:
    analyst = world.users["banking.analyst"]
    enrol(analyst)
    assert services.reset_mfa(actor=world.users["admin"], user=analyst)
    analyst.refresh_from_db()
    assert not analyst.mfa_enabled
    assert AuditEntry.objects.filter(action="user.mfa_reset", actor_name="admin").exists()


def test_analyst_with_a_token_but_no_mfa_session_uses_only_the_token(
    client, world, mfa_required
) -> None:
    analyst = world.users["banking.analyst"]
    _token, plain = services.create_token(actor=None, user=analyst, name="script")
    client.force_login(analyst)
    assert (
        client.get("/api/v1/me", headers={"Authorization": f"Bearer {plain}"}).json()["username"]
        == "banking.analyst"
    )
    # A wrong token must not fall back to the session that lacks its second factor.
    bad = client.get("/api/v1/me", headers={"Authorization": "Bearer chb_wrong"})
    assert bad.status_code == 401
