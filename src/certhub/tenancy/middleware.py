"""The MFA requirement for CERT staff (a tenancy fact: membership of a team)."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import Resolver404, resolve

from certhub.tenancy.visibility import scope_for

# Pages a user without a second factor may still reach when MFA is required.
MFA_EXEMPT_URL_NAMES = {
    "accounts:mfa_setup",
    "accounts:logout",
    "accounts:login",
    "accounts:login_verify",
}


class RequireMFAMiddleware:
    """With CERTHUB_REQUIRE_MFA on, CERT staff without a confirmed second factor are sent
    to enrol before any other page. API calls are refused separately (token auth)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if (
            settings.CERTHUB_REQUIRE_MFA
            and user is not None
            and user.is_authenticated
            and not user.mfa_enabled
            and (user.is_superuser or scope_for(user).is_cert_staff)
            and not request.path.startswith(settings.STATIC_URL)
            and not request.path.startswith("/api/")
        ):
            try:
                match = resolve(request.path_info)
            except Resolver404:
                match = None
            if match is None or match.view_name not in MFA_EXEMPT_URL_NAMES:
                return redirect("accounts:mfa_setup")
        return self.get_response(request)
