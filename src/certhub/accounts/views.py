"""Sign-in and the account page (placeholder until MFA and tokens land)."""

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"


def login_verify(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/login.html")


@login_required
def account(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/account.html")


@login_required
def mfa_setup(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/account.html")
