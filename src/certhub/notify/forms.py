from django import forms
from django.utils.translation import gettext_lazy as _

from certhub.notify.choices import NotificationKind


class PreferencesForm(forms.Form):
    kinds = forms.MultipleChoiceField(
        label=_("Send me e-mail about"),
        choices=NotificationKind.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
