"""Sign-in (password, then the second factor when enrolled), MFA enrolment and the
account page with the user's API tokens. Thin: parse the form, call one service or
selector, render."""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import NON_FIELD_ERRORS
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render, resolve_url
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from certhub.accounts import mfa, selectors, services
from certhub.accounts.forms import (
    DisableMFAForm,
    EnrolForm,
    LoginForm,
    RecoveryCodesForm,
    SecondFactorForm,
    TimeZoneForm,
    TokenForm,
)
from certhub.accounts.models import User
from certhub.core.errors import CerthubError, Invalid
from certhub.core.http import not_found_as_404

# Session keys: a sign-in waiting for its second factor, and a secret being enrolled.
PENDING_LOGIN = "certhub_pending_login"
ENROL_SECRET = "certhub_mfa_enrol_secret"
# The second factor must follow the password within this time.
PENDING_LOGIN_SECONDS = 5 * 60


def _throttled_message() -> str:
    # One message for every case (unknown username included): nothing to enumerate.
    minutes = max(1, settings.CERTHUB_LOGIN_WINDOW_SECONDS // 60)
    return ngettext(
        "Too many failed sign-in attempts. Wait %(minutes)s minute and try again.",
        "Too many failed sign-in attempts. Wait %(minutes)s minutes and try again.",
        minutes,
    ) % {"minutes": minutes}


def _safe_next(request: HttpRequest, candidate: str | None) -> str:
    """Where to go after signing in: ``next`` if it stays on this site, else home."""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return resolve_url(settings.LOGIN_REDIRECT_URL)


# --- Sign-in ---------------------------------------------------------------------------


@sensitive_post_parameters("password")
@never_cache
def login_view(request: HttpRequest) -> HttpResponse:
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if request.method != "POST":
        if request.user.is_authenticated:
            return redirect(_safe_next(request, next_url))
        return _login_page(request, LoginForm(request), next_url)

    form = LoginForm(request, data=request.POST)
    ip_address = selectors.client_address(request)
    username_key = selectors.throttle_key(request.POST.get("username", ""))
    # Refused before the password is looked at: a locked account cannot be guessed at.
    if selectors.login_throttled(username_key=username_key, ip_address=ip_address):
        return _login_page(
            request, LoginForm(request), next_url, error=_throttled_message(), status=429
        )
    if form.is_valid():
        user = form.get_user()
        if user.mfa_enabled:
            # Not signed in yet: remember who gave the right password, for the code step.
            request.session.cycle_key()
            request.session[PENDING_LOGIN] = {
                "user_id": user.pk,
                "backend": getattr(user, "backend", settings.AUTHENTICATION_BACKENDS[0]),
                "next": _safe_next(request, next_url),
                "since": int(time.time()),
            }
            return redirect("accounts:login_verify")
        services.login_succeeded(user=user, ip_address=ip_address)
        auth_login(request, user)
        return redirect(_safe_next(request, next_url))
    if form.has_error(NON_FIELD_ERRORS):
        # The password was checked and was wrong (empty fields never reach the check).
        services.record_login_failure(
            username_key=username_key, ip_address=ip_address, stage="password"
        )
    return _login_page(request, form, next_url)


def _login_page(
    request: HttpRequest, form: LoginForm, next_url: str, *, error: str = "", status: int = 200
) -> HttpResponse:
    return render(
        request,
        "accounts/login.html",
        {"form": form, "next": next_url, "error": error},
        status=status,
    )


def _pending_login(request: HttpRequest) -> tuple[User, dict[str, Any]] | None:
    pending = request.session.get(PENDING_LOGIN)
    if not isinstance(pending, dict):
        return None
    if time.time() - pending.get("since", 0) > PENDING_LOGIN_SECONDS:
        return None
    user = selectors.get_active_user(pending.get("user_id"))
    if user is None or not user.mfa_enabled:
        return None
    return user, pending


@sensitive_post_parameters("code")
@never_cache
def login_verify(request: HttpRequest) -> HttpResponse:
    found = _pending_login(request)
    if found is None:
        request.session.pop(PENDING_LOGIN, None)
        messages.info(request, _("Please sign in with your password first."))
        return redirect("accounts:login")
    user, pending = found
    form = SecondFactorForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        ip_address = selectors.client_address(request)
        username_key = user.username.lower()
        if selectors.login_throttled(username_key=username_key, ip_address=ip_address):
            return _verify_page(request, SecondFactorForm(), _throttled_message(), 429)
        if form.is_valid():
            try:
                method = services.verify_second_factor(
                    user=user, code=form.cleaned_data["code"], ip_address=ip_address
                )
            except Invalid as exc:
                services.record_login_failure(
                    username_key=username_key, ip_address=ip_address, stage="code"
                )
                form.add_error("code", exc.message)
            else:
                del request.session[PENDING_LOGIN]
                auth_login(request, user, backend=pending.get("backend"))
                if method == "recovery":
                    _warn_recovery_codes_left(request, user)
                return redirect(_safe_next(request, pending.get("next")))
    return _verify_page(request, form)


def _verify_page(
    request: HttpRequest, form: SecondFactorForm, error: str = "", status: int = 200
) -> HttpResponse:
    return render(
        request, "accounts/login_verify.html", {"form": form, "error": error}, status=status
    )


def _warn_recovery_codes_left(request: HttpRequest, user: User) -> None:
    left = selectors.unused_recovery_codes(user).count()
    messages.warning(
        request,
        ngettext(
            "You signed in with a recovery code; %(count)s is left. "
            "Make new ones on your account page.",
            "You signed in with a recovery code; %(count)s are left. "
            "Make new ones on your account page.",
            left,
        )
        % {"count": left},
    )


# --- Second factor enrolment and management --------------------------------------------


@login_required
@never_cache
def mfa_setup(request: HttpRequest) -> HttpResponse:
    user = selectors.current_user(request)
    if user.mfa_enabled:
        messages.info(request, _("Two-factor authentication is already on for your account."))
        return redirect("accounts:account")
    secret = request.session.get(ENROL_SECRET)
    if not isinstance(secret, str) or not secret:
        # Kept in the session until confirmed, so reloading shows the same QR code.
        secret = mfa.new_secret()
        request.session[ENROL_SECRET] = secret
    form = EnrolForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            codes = services.enable_mfa(
                actor=user, user=user, secret=secret, code=form.cleaned_data["code"]
            )
        except CerthubError as exc:
            form.add_error("code", exc.message)
        else:
            request.session.pop(ENROL_SECRET, None)
            return _recovery_codes_page(request, codes, enrolled=True)
    uri = mfa.provisioning_uri(
        secret, account_name=user.get_username(), issuer=settings.CERTHUB_SITE_NAME
    )
    return render(
        request,
        "accounts/mfa_setup.html",
        {
            "form": form,
            "secret": secret,
            "secret_groups": [secret[i : i + 4] for i in range(0, len(secret), 4)],
            # segno's own markup of our own URI: no user input reaches it unescaped.
            "qr_svg": mark_safe(mfa.qr_svg(uri)),  # noqa: S308
            "mfa_required": getattr(request, "mfa_required", False),
        },
        # A bound form here is a refused code (success returned above).
        status=400 if form.is_bound else 200,
    )


def _recovery_codes_page(request: HttpRequest, codes: list[str], *, enrolled: bool) -> HttpResponse:
    # Rendered in the response (never stored readable, never redirected to): shown once.
    return render(request, "accounts/recovery_codes.html", {"codes": codes, "enrolled": enrolled})


@login_required
@require_POST
@sensitive_post_parameters("password", "code")
@never_cache
def mfa_disable(request: HttpRequest) -> HttpResponse:
    user = selectors.current_user(request)
    form = DisableMFAForm(request.POST)
    ip_address = selectors.client_address(request)
    if selectors.login_throttled(username_key=user.username.lower(), ip_address=ip_address):
        return _account_page(request, status=429, mfa_error=_throttled_message())
    if not form.is_valid():
        return _account_page(request, status=400, disable_form=form)
    try:
        services.disable_mfa(
            actor=user,
            user=user,
            password=form.cleaned_data["password"],
            code=form.cleaned_data["code"],
            mfa_required=getattr(request, "mfa_required", False),
        )
    except Invalid as exc:
        services.record_login_failure(
            username_key=user.username.lower(), ip_address=ip_address, stage="mfa_disable"
        )
        form.add_error(None, exc.message)
        return _account_page(request, status=400, disable_form=form)
    except CerthubError as exc:
        return _account_page(request, status=exc.status, mfa_error=exc.message)
    messages.success(request, _("Two-factor authentication is off."))
    return redirect("accounts:account")


@login_required
@require_POST
@sensitive_post_parameters("code")
@never_cache
def mfa_recovery_codes(request: HttpRequest) -> HttpResponse:
    user = selectors.current_user(request)
    form = RecoveryCodesForm(request.POST)
    ip_address = selectors.client_address(request)
    if selectors.login_throttled(username_key=user.username.lower(), ip_address=ip_address):
        return _account_page(request, status=429, mfa_error=_throttled_message())
    if not form.is_valid():
        return _account_page(request, status=400, codes_form=form)
    try:
        codes = services.regenerate_recovery_codes(
            actor=user, user=user, code=form.cleaned_data["code"]
        )
    except Invalid as exc:
        services.record_login_failure(
            username_key=user.username.lower(), ip_address=ip_address, stage="recovery_codes"
        )
        form.add_error("code", exc.message)
        return _account_page(request, status=400, codes_form=form)
    except CerthubError as exc:
        return _account_page(request, status=exc.status, mfa_error=exc.message)
    return _recovery_codes_page(request, codes, enrolled=False)


# --- The account page ------------------------------------------------------------------


def _account_page(request: HttpRequest, *, status: int = 200, **context: Any) -> HttpResponse:
    user = selectors.current_user(request)
    context.setdefault("time_zone_form", TimeZoneForm(initial={"time_zone": user.time_zone}))
    context.setdefault("token_form", TokenForm())
    context.setdefault("disable_form", DisableMFAForm())
    context.setdefault("codes_form", RecoveryCodesForm())
    context.update(
        account=user,
        tokens=list(selectors.tokens_of(user)),
        recovery_codes_left=selectors.unused_recovery_codes(user).count()
        if user.mfa_enabled
        else 0,
        mfa_required=getattr(request, "mfa_required", False),
    )
    return render(request, "accounts/account.html", context, status=status)


@login_required
@never_cache
def account(request: HttpRequest) -> HttpResponse:
    return _account_page(request)


@login_required
@require_POST
def time_zone(request: HttpRequest) -> HttpResponse:
    user = selectors.current_user(request)
    form = TimeZoneForm(request.POST)
    if form.is_valid():
        try:
            services.set_time_zone(actor=user, user=user, time_zone=form.cleaned_data["time_zone"])
        except Invalid as exc:
            form.add_error("time_zone", exc.message)
        else:
            messages.success(
                request, _("Times are now shown in %(zone)s.") % {"zone": user.time_zone}
            )
            return redirect("accounts:account")
    return _account_page(request, status=400, time_zone_form=form)


@login_required
@require_POST
@never_cache
def token_create(request: HttpRequest) -> HttpResponse:
    user = selectors.current_user(request)
    form = TokenForm(request.POST)
    if form.is_valid():
        try:
            token, plain = services.create_token(
                actor=user,
                user=user,
                name=form.cleaned_data["name"],
                expires_in_days=form.cleaned_data["expires_in_days"],
            )
        except Invalid as exc:
            form.add_error(None, exc.message)
        else:
            # Shown in this response only: the token itself is not stored.
            return _account_page(request, new_token=plain, new_token_row=token)
    return _account_page(request, status=400, token_form=form)


@login_required
@require_POST
@not_found_as_404
def token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    user = selectors.current_user(request)
    token = selectors.get_token_of(user, token_id)
    services.revoke_token(actor=user, token=token)
    if getattr(request, "htmx", False):
        return render(request, "accounts/_token_row.html", {"token": token})
    messages.success(request, _("The token %(name)s is revoked.") % {"name": token.name})
    return redirect("accounts:account")
