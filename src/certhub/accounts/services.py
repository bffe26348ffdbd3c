"""Every write to accounts. Keyword-only, one transaction each, audited."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from certhub.accounts import mfa, selectors
from certhub.accounts.models import ApiToken, LoginFailure, RecoveryCode, User, validate_time_zone
from certhub.accounts.tokens import display_prefix, hash_token, new_token
from certhub.audit import services as audit
from certhub.core.errors import Conflict, Forbidden, Invalid

USER_FIELDS = [
    "email",
    "first_name",
    "last_name",
    "is_council",
    "is_superuser",
    "is_staff",
    "is_active",
]


@transaction.atomic
def upsert_user(
    *,
    actor: Any,
    username: str,
    email: str = "",
    first_name: str = "",
    last_name: str = "",
    password: str | None = None,
    password_hash: str | None = None,
    is_council: bool = False,
    is_superuser: bool = False,
    reset_password: bool = False,
) -> tuple[User, bool]:
    """Create the user ``username`` or bring its profile up to date. A password (or a
    ready hash, for bulk demo data) is set on creation, or when ``reset_password``."""
    existing = User.objects.select_for_update().filter(username=username).first()
    created = existing is None
    user = existing if existing is not None else User(username=username)
    before = {} if created else audit.snapshot(user, USER_FIELDS)
    user.email, user.first_name, user.last_name = email, first_name, last_name
    user.is_council = is_council
    user.is_superuser = user.is_staff = is_superuser
    if created or reset_password:
        if password_hash is not None:
            user.password = password_hash
        elif password is not None:
            user.password = make_password(password)
        else:
            user.set_unusable_password()
    try:
        user.full_clean(exclude=["password"])
    except ValidationError as exc:
        raise Invalid(" ".join(exc.messages)) from exc
    changes = audit.diff(before, audit.snapshot(user, USER_FIELDS))
    if not created and not changes and not reset_password:
        return user, False
    user.save()
    if reset_password and not created:
        changes["password"] = ["(set)", "(reset)"]
    audit.record(
        actor=actor, action=f"user.{'create' if created else 'update'}", obj=user, changes=changes
    )
    return user, True


# --- Sign-in and throttling --------------------------------------------------------------


def _audit_ip(ip_address: str | None) -> list[str | None]:
    return [None, ip_address]


@transaction.atomic
def record_login_failure(*, username_key: str, ip_address: str | None, stage: str) -> None:
    """Count a failed sign-in (wrong password or wrong second-factor code) for throttling,
    and audit it; audit the lockout too when this failure is the one that starts it.
    Recorded the same way whether or not the account exists."""
    now = timezone.now()
    # Old rows only serve the admin's curiosity: keep a day, then let them go.
    keep_since = now - dt.timedelta(seconds=max(settings.CERTHUB_LOGIN_WINDOW_SECONDS, 86_400))
    LoginFailure.objects.filter(occurred_at__lt=keep_since).delete()
    LoginFailure.objects.create(username_key=username_key, ip_address=ip_address, occurred_at=now)
    audit.record(
        actor=None,
        action="user.login_fail",
        object_type="accounts.user",
        object_repr=username_key,
        changes={"ip_address": _audit_ip(ip_address), "stage": [None, stage]},
    )
    by_user = selectors.failures_for_user(username_key) if username_key else 0
    by_address = selectors.failures_from_address(ip_address)
    locked = []
    if by_user == settings.CERTHUB_LOGIN_FAILURES_PER_USER:
        locked.append(("username", by_user))
    if by_address == settings.CERTHUB_LOGIN_FAILURES_PER_IP:
        locked.append(("address", by_address))
    for scope, failures in locked:
        audit.record(
            actor=None,
            action="user.lockout",
            object_type="accounts.user",
            object_repr=username_key,
            changes={
                "ip_address": _audit_ip(ip_address),
                "scope": [None, scope],
                "failures": [None, failures],
            },
        )


@transaction.atomic
def login_succeeded(*, user: User, ip_address: str | None, method: str = "password") -> None:
    """A complete sign-in (password, and the second factor when enrolled): forget the
    account's recent failures and audit it. The session itself is Django's ``login``."""
    _login_succeeded(user, ip_address, method)


def _login_succeeded(user: User, ip_address: str | None, method: str) -> None:
    LoginFailure.objects.filter(username_key=user.username.lower()).delete()
    audit.record(
        actor=user,
        action="user.login",
        obj=user,
        changes={"ip_address": _audit_ip(ip_address), "method": [None, method]},
    )


@transaction.atomic
def unlock_login(*, actor: Any, username_key: str) -> int:
    """Forget the recent failures of one username (an administrator lifting a lockout)."""
    deleted, _unused = LoginFailure.objects.filter(username_key=username_key).delete()
    if deleted:
        audit.record(
            actor=actor,
            action="user.unlock",
            object_type="accounts.user",
            object_repr=username_key,
            changes={"failures": [deleted, 0]},
        )
    return deleted


# --- Second factor (TOTP and recovery codes) ----------------------------------------------

MFA_FIELDS = ["totp_secret", "totp_confirmed_at", "totp_last_step"]


def _locked(user: User) -> User:
    """The user's row, locked for this transaction: two requests with the same code must
    not both pass the replay check."""
    return User.objects.select_for_update().get(pk=user.pk)


def _save_mfa(target: User, fresh: User) -> None:
    fresh.save(update_fields=MFA_FIELDS)
    # Keep the caller's object (often request.user) in step with the database.
    for name in MFA_FIELDS:
        setattr(target, name, getattr(fresh, name))


def _replace_recovery_codes(user: User) -> list[str]:
    RecoveryCode.objects.filter(user=user).delete()
    codes = mfa.new_recovery_codes()
    RecoveryCode.objects.bulk_create(
        RecoveryCode(user=user, code_hash=make_password(code)) for code in codes
    )
    return codes


def _consume_code(fresh: User, code: str) -> str:
    """Check a second-factor code of a locked user and use it up: a TOTP code's time step
    cannot serve twice, a recovery code only once. Returns "totp" or "recovery"."""
    if mfa.looks_like_totp(code):
        step = mfa.matching_step(fresh.totp_secret, code)
        if step is None:
            raise Invalid(_wrong_code())
        if fresh.totp_last_step is not None and step <= fresh.totp_last_step:
            raise Invalid(_("This code was already used. Wait for the next one and enter it."))
        fresh.totp_last_step = step
        fresh.save(update_fields=["totp_last_step"])
        return "totp"
    recovery = mfa.normalise_recovery_code(code)
    if recovery is not None:
        for candidate in selectors.unused_recovery_codes(fresh).select_for_update():
            if check_password(recovery, candidate.code_hash):
                candidate.used_at = timezone.now()
                candidate.save(update_fields=["used_at"])
                audit.record(
                    actor=fresh,
                    action="user.recovery_code_use",
                    obj=fresh,
                    changes={"recovery_codes_left": [None, _codes_left(fresh)]},
                )
                return "recovery"
    raise Invalid(_wrong_code())


def _codes_left(user: User) -> int:
    return selectors.unused_recovery_codes(user).count()


def _wrong_code() -> str:
    return _("That code is not right. Enter the current code from your authenticator app.")


@transaction.atomic
def enable_mfa(*, actor: Any, user: User, secret: str, code: str) -> list[str]:
    """Confirm enrolment: the code proves the user's app holds ``secret``. Stores the
    secret and returns ten new recovery codes (the only time they are readable)."""
    fresh = _locked(user)
    if fresh.mfa_enabled:
        raise Conflict(_("Two-factor authentication is already on for this account."))
    step = mfa.matching_step(secret, code)
    if step is None:
        raise Invalid(_wrong_code())
    fresh.totp_secret, fresh.totp_confirmed_at, fresh.totp_last_step = secret, timezone.now(), step
    _save_mfa(user, fresh)
    codes = _replace_recovery_codes(fresh)
    audit.record(
        actor=actor,
        action="user.mfa_enable",
        obj=fresh,
        changes={"mfa_enabled": [False, True], "recovery_codes": [None, len(codes)]},
    )
    return codes


@transaction.atomic
def verify_second_factor(*, user: User, code: str, ip_address: str | None) -> str:
    """Second step of signing in: check (and use up) a TOTP or recovery code, then treat
    the sign-in as succeeded. Raises Invalid on a wrong code: the caller records that
    failure with ``record_login_failure`` (this transaction is rolled back)."""
    fresh = _locked(user)
    if not fresh.mfa_enabled:
        raise Invalid(_wrong_code())
    method = _consume_code(fresh, code)
    user.totp_last_step = fresh.totp_last_step
    _login_succeeded(fresh, ip_address, method)
    return method


@transaction.atomic
def regenerate_recovery_codes(*, actor: Any, user: User, code: str) -> list[str]:
    """Replace every recovery code (used or not) with ten new ones; needs a current code."""
    fresh = _locked(user)
    if not fresh.mfa_enabled:
        raise Conflict(_("Two-factor authentication is not on for this account."))
    _consume_code(fresh, code)
    user.totp_last_step = fresh.totp_last_step
    codes = _replace_recovery_codes(fresh)
    audit.record(
        actor=actor,
        action="user.recovery_codes_regenerate",
        obj=fresh,
        changes={"recovery_codes": [None, len(codes)]},
    )
    return codes


@transaction.atomic
def disable_mfa(*, actor: Any, user: User, password: str, code: str, mfa_required: bool) -> None:
    """Turn the second factor off, proven by the password and a current code.

    ``mfa_required`` says whether the user's role requires a second factor (CERT staff
    and administrators when CERTHUB_REQUIRE_MFA is on). That is a tenancy fact, which
    accounts cannot look up (it sits below tenancy), so the caller passes it: the web
    layer takes it from RequireMFAMiddleware (``request.mfa_required``)."""
    if mfa_required:
        raise Forbidden(
            _("Your role requires two-factor authentication, so it cannot be turned off.")
        )
    fresh = _locked(user)
    if not fresh.mfa_enabled:
        raise Conflict(_("Two-factor authentication is not on for this account."))
    if not fresh.check_password(password or ""):
        raise Invalid(_("That password is not right."))
    _consume_code(fresh, code)
    _turn_off_mfa(user, fresh)
    audit.record(
        actor=actor, action="user.mfa_disable", obj=fresh, changes={"mfa_enabled": [True, False]}
    )


@transaction.atomic
def reset_mfa(*, actor: Any, user: User) -> bool:
    """An administrator removes a user's second factor (lost phone and recovery codes),
    so that the user enrols again at the next sign-in. Returns False if it was off."""
    fresh = _locked(user)
    if not fresh.totp_secret:
        return False
    _turn_off_mfa(user, fresh)
    audit.record(
        actor=actor, action="user.mfa_reset", obj=fresh, changes={"mfa_enabled": [True, False]}
    )
    return True


def _turn_off_mfa(target: User, fresh: User) -> None:
    fresh.totp_secret, fresh.totp_confirmed_at, fresh.totp_last_step = "", None, None
    _save_mfa(target, fresh)
    RecoveryCode.objects.filter(user=fresh).delete()


# --- Profile ---------------------------------------------------------------------------


@transaction.atomic
def set_time_zone(*, actor: Any, user: User, time_zone: str) -> None:
    """The zone the user's pages show times in."""
    time_zone = (time_zone or "").strip()
    try:
        validate_time_zone(time_zone)
    except ValidationError as exc:
        raise Invalid(" ".join(exc.messages)) from exc
    before = user.time_zone
    if before == time_zone:
        return
    user.time_zone = time_zone
    user.save(update_fields=["time_zone"])
    audit.record(
        actor=actor, action="user.update", obj=user, changes={"time_zone": [before, time_zone]}
    )


# --- API tokens ------------------------------------------------------------------------

MAX_TOKEN_DAYS = 3650
TOKEN_NAME_MAX_LENGTH = 100  # ApiToken.name


@transaction.atomic
def create_token(
    *, actor: Any, user: User, name: str, expires_in_days: int | None = None
) -> tuple[ApiToken, str]:
    """A new API token acting as ``user``. Returns the row and the token itself, which is
    not stored (only its hash) and so can be shown this once only."""
    name = (name or "").strip()
    if not name:
        raise Invalid(_("Give the token a name, to recognise it later."))
    if len(name) > TOKEN_NAME_MAX_LENGTH:
        raise Invalid(
            _("The token name is too long (%(max)s characters at most).")
            % {"max": TOKEN_NAME_MAX_LENGTH}
        )
    if expires_in_days is not None and (
        isinstance(expires_in_days, bool)
        or not isinstance(expires_in_days, int)
        or not 1 <= expires_in_days <= MAX_TOKEN_DAYS
    ):
        raise Invalid(
            _("A token expires after 1 to %(max)s days (or never).") % {"max": MAX_TOKEN_DAYS}
        )
    if not user.is_active:
        raise Invalid(_("This account is deactivated: it cannot have API tokens."))
    plain = new_token()
    expires_at = (
        timezone.now() + dt.timedelta(days=expires_in_days) if expires_in_days is not None else None
    )
    token = ApiToken.objects.create(
        user=user,
        name=name,
        prefix=display_prefix(plain),
        token_hash=hash_token(plain),
        expires_at=expires_at,
    )
    audit.record(
        actor=actor,
        action="api_token.create",
        obj=token,
        changes={
            "user": [None, user.get_username()],
            "name": [None, name],
            "prefix": [None, token.prefix],
            "expires_at": [None, expires_at],
        },
    )
    return token, plain


@transaction.atomic
def revoke_token(*, actor: Any, token: ApiToken) -> ApiToken:
    """Stop a token from working, for good. Revoking it again changes nothing."""
    fresh = ApiToken.objects.select_for_update().get(pk=token.pk)
    if fresh.revoked_at is None:
        fresh.revoked_at = timezone.now()
        fresh.save(update_fields=["revoked_at"])
        audit.record(
            actor=actor,
            action="api_token.revoke",
            obj=fresh,
            changes={"revoked_at": [None, fresh.revoked_at]},
        )
    token.revoked_at = fresh.revoked_at
    return fresh
