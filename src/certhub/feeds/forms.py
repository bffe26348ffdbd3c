"""Forms of the feeds pages: the events filters (also parsed by the API) and the upload."""

from __future__ import annotations

import datetime as dt
import ipaddress
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from certhub.feeds.reports import REPORT_TYPES
from certhub.feeds.selectors import EventFilters
from certhub.tenancy.selectors import sectors_visible_to, teams_visible_to

MAX_UPLOAD_BYTES = 200 * 1024 * 1024


class EventFilterForm(forms.Form):
    """The GET filters over the events the user may see. Team and sector choices are the
    visible ones; an organization is named by its slug (there may be thousands)."""

    organization = forms.SlugField(label=_("Organization (slug)"), required=False)
    team = forms.ChoiceField(label=_("Team"), required=False)
    sector = forms.ChoiceField(label=_("Sector"), required=False)
    feed = forms.CharField(label=_("Feed"), required=False, max_length=100)
    taxonomy = forms.CharField(label=_("Classification taxonomy"), required=False, max_length=50)
    type = forms.CharField(label=_("Classification type"), required=False, max_length=50)
    identifier = forms.CharField(
        label=_("Classification identifier"), required=False, max_length=200
    )
    day = forms.DateField(
        label=_("Day"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    day_from = forms.DateField(
        label=_("From day"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    day_to = forms.DateField(
        label=_("To day"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    ip = forms.CharField(
        label=_("IP address or network"),
        required=False,
        max_length=50,
        widget=forms.TextInput(attrs={"placeholder": "192.0.2.0/24"}),
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        any_choice = [("", _("Any"))]
        team_field = self.fields["team"]
        sector_field = self.fields["sector"]
        assert isinstance(team_field, forms.ChoiceField)
        assert isinstance(sector_field, forms.ChoiceField)
        teams = teams_visible_to(user).order_by("path").values_list("slug", "name", "depth")
        team_field.choices = any_choice + [
            (slug, f"{'— ' * depth}{name}") for slug, name, depth in teams
        ]
        sector_field.choices = any_choice + [
            (slug, name) for slug, name in sectors_visible_to(user).values_list("slug", "name")
        ]

    def clean_ip(self) -> str:
        raw = str(self.cleaned_data.get("ip") or "").strip()
        if not raw:
            return ""
        try:
            return str(ipaddress.ip_network(raw, strict=False))
        except ValueError as exc:
            raise forms.ValidationError(
                _("%(value)s is not an IP address or network."), params={"value": raw[:50]}
            ) from exc

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("day_from"), data.get("day_to")
        if isinstance(start, dt.date) and isinstance(end, dt.date) and start > end:
            raise forms.ValidationError(_("The first day is after the last day."))
        return data

    def filters(self) -> EventFilters:
        """The valid filters (call ``is_valid`` first)."""
        data = self.cleaned_data if self.is_bound and not self.errors else {}
        return EventFilters(
            organization=data.get("organization") or "",
            team=data.get("team") or "",
            sector=data.get("sector") or "",
            feed=data.get("feed") or "",
            taxonomy=data.get("taxonomy") or "",
            type=data.get("type") or "",
            identifier=data.get("identifier") or "",
            day=data.get("day"),
            day_from=data.get("day_from"),
            day_to=data.get("day_to"),
            ip=data.get("ip") or "",
        )

    def error_text(self) -> str:
        parts = []
        for name, errors in self.errors.items():
            label = self.fields[name].label if name in self.fields else ""
            text = " ".join(str(error) for error in errors)
            parts.append(f"{label}: {text}" if label else text)
        return "; ".join(parts)


class UploadForm(forms.Form):
    """One report file to ingest, as the command line would."""

    file = forms.FileField(label=_("Report file"))
    report_type = forms.ChoiceField(
        label=_("Report type"),
        required=False,
        help_text=_("Leave empty to recognise it from the file name or the header."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["report_type"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", _("Recognise"))] + [
            (name, name) for name in [*sorted(REPORT_TYPES), "intelmq"]
        ]

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(
                _("The file is too large (at most %(mb)d MB); use the command line."),
                params={"mb": MAX_UPLOAD_BYTES // (1024 * 1024)},
            )
        return upload
