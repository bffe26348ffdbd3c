"""The MFA requirement for CERT staff (a tenancy fact: membership of a team)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import Resolver404, resolve
from django.utils.translation import gettext as _

from certhub.tenancy.visibility import scope_for

# Pages a user without a second factor may still reach when MFA is required.
MFA_EXEMPT_URL_NAMES = {
    "accounts:mfa_setup",
    "accounts:logout",
    "accounts:login",
    "accounts:login_verify",
    "set_language",
}


def mfa_required_for(user: Any) -> bool:
    """Whether this user must have a second factor: CERT staff (a member of any team) and
    platform administrators, when CERTHUB_REQUIRE_MFA is on."""
    if not settings.CERTHUB_REQUIRE_MFA or user is None or not user.is_authenticated:
        return False
    return bool(user.is_superuser or scope_for(user).is_cert_staff)


class RequireMFAMiddleware:
    """With CERTHUB_REQUIRE_MFA on, CERT staff without a confirmed second factor are sent
    to enrol before any other page, and their browser session is refused by the API.

    It also sets ``request.mfa_required`` for the account pages (which may not look at
    teams themselves: accounts sits below tenancy), e.g. to refuse turning MFA off."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        required = mfa_required_for(user)
        request.mfa_required = required  # type: ignore[attr-defined]
        if not required or user is None or user.mfa_enabled:
            return self.get_response(request)
        if request.path.startswith(settings.STATIC_URL):
            return self.get_response(request)
        if request.path.startswith("/api/"):
            # A bearer token is checked by the API itself; only the session is refused.
            # Dropping the session user keeps a bad token from falling back to it.
            if request.headers.get("Authorization"):
                request.user = AnonymousUser()
                return self.get_response(request)
            return JsonResponse(
                {"detail": _("Set up two-factor authentication before using the API.")},
                status=403,
            )
        try:
            match = resolve(request.path_info)
        except Resolver404:
            match = None
        if match is None or match.view_name not in MFA_EXEMPT_URL_NAMES:
            return redirect("accounts:mfa_setup")
        return self.get_response(request)
