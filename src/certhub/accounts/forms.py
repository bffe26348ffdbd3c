"""Forms of the sign-in and account pages. They check shape only; the rules (is this code
right, may this token be made) live in services."""

from __future__ import annotations

import zoneinfo
from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from certhub.accounts.services import MAX_TOKEN_DAYS, TOKEN_NAME_MAX_LENGTH


class LoginForm(AuthenticationForm):
    """Django's sign-in form (fields ``username`` and ``password``), which also accepts an
    e-mail address in ``username`` (see backends.py)."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _(
            "That username or e-mail address and password do not match an account. "
            "Passwords are case-sensitive."
        ),
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["username"].label = _("Username or e-mail address")


def _code_field(*, help_text: Any = "", allow_recovery: bool = True) -> forms.CharField:
    attrs = {"autocomplete": "one-time-code", "autocapitalize": "off", "spellcheck": "false"}
    if not allow_recovery:
        attrs |= {"inputmode": "numeric", "pattern": r"[0-9 ]{6,7}"}
    return forms.CharField(
        label=_("Code"),
        max_length=32,
        help_text=help_text,
        widget=forms.TextInput(attrs=attrs),
    )


class SecondFactorForm(forms.Form):
    code = _code_field(
        help_text=_(
            "The 6-digit code your authenticator app shows now, or one of your recovery codes."
        )
    )


class EnrolForm(forms.Form):
    code = _code_field(
        help_text=_("The 6-digit code your authenticator app shows for this account."),
        allow_recovery=False,
    )


class DisableMFAForm(forms.Form):
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    code = _code_field(help_text=_("A current code from your app, or a recovery code."))


class RecoveryCodesForm(forms.Form):
    code = _code_field(help_text=_("A current code from your app, or a recovery code."))


class TokenForm(forms.Form):
    name = forms.CharField(
        label=_("Name"),
        max_length=TOKEN_NAME_MAX_LENGTH,
        help_text=_("What the token is for, e.g. the name of the script or machine."),
    )
    expires_in_days = forms.IntegerField(
        label=_("Expires after (days)"),
        required=False,
        min_value=1,
        max_value=MAX_TOKEN_DAYS,
        help_text=_("Leave empty for a token that does not expire."),
    )


def time_zone_choices() -> list[tuple[str, str]]:
    return [(zone, zone) for zone in sorted(zoneinfo.available_timezones())]


class TimeZoneForm(forms.Form):
    time_zone = forms.ChoiceField(label=_("Time zone"), choices=time_zone_choices)
