"""Forms of the constituency directory."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from certhub.tenancy.selectors import sectors_visible_to, teams_visible_to


class DirectoryFilterForm(forms.Form):
    """The GET filters over the organizations table. The sector and team choices are the
    ones the user may see, so the form never offers (or accepts) an invisible team."""

    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=200,
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": _("Name or slug"), "autocomplete": "off"}
        ),
    )
    sector = forms.ChoiceField(label=_("Sector"), required=False)
    team = forms.ChoiceField(
        label=_("Team"),
        required=False,
        help_text=_("Organizations handled by this team or a team below it."),
    )
    cii = forms.BooleanField(label=_("CII only"), required=False)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        any_choice = [("", _("Any"))]
        sector_field = self.fields["sector"]
        team_field = self.fields["team"]
        assert isinstance(sector_field, forms.ChoiceField)
        assert isinstance(team_field, forms.ChoiceField)
        sector_field.choices = any_choice + [
            (slug, name) for slug, name in sectors_visible_to(user).values_list("slug", "name")
        ]
        # Path order lists every team right after its parent; the indent shows the tree.
        teams = teams_visible_to(user).order_by("path").values_list("slug", "name", "depth")
        team_field.choices = any_choice + [
            (slug, f"{'— ' * depth}{name}") for slug, name, depth in teams
        ]

    def filters(self) -> dict[str, Any]:
        """The filters to apply: the valid ones only, so one bad value (an old bookmark
        naming a team no longer visible) narrows nothing instead of emptying the table."""
        if not self.is_bound:
            return {}
        self.is_valid()
        data = self.cleaned_data
        return {
            "q": data.get("q") or "",
            "sector": data.get("sector") or "",
            "team": data.get("team") or "",
            "cii": True if data.get("cii") else None,
        }
