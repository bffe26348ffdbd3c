"""Forms of the constituency directory."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from certhub.tenancy.choices import CIIGrade
from certhub.tenancy.models import CIICriterion
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


# --- The CII registry ------------------------------------------------------------------

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class CIIFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=200)
    sector = forms.ChoiceField(label=_("Sector"), required=False)
    grade = forms.ChoiceField(
        label=_("Grade"), required=False, choices=[("", _("Any")), *CIIGrade.choices]
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        sector_field = self.fields["sector"]
        assert isinstance(sector_field, forms.ChoiceField)
        sector_field.choices = [("", _("Any"))] + [
            (slug, name) for slug, name in sectors_visible_to(user).values_list("slug", "name")
        ]

    def filters(self) -> dict[str, str]:
        if not self.is_bound:
            return {}
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {key: data.get(key) or "" for key in ("q", "sector", "grade")}


class _GradingForm(forms.Form):
    """The grading criteria as one choice each, plus a grade set by hand with a reason:
    answer every criterion, or choose a grade and say why."""

    grade = forms.ChoiceField(
        label=_("Or set the grade"), required=False, choices=[("", "—"), *CIIGrade.choices]
    )
    reason = forms.CharField(
        label=_("Reason"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Needed when the grade is set by hand."),
    )

    def __init__(self, *args: Any, criteria: list[CIICriterion], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.criteria = criteria
        for criterion in criteria:
            self.fields[f"criterion_{criterion.slug}"] = forms.ChoiceField(
                label=_("%(name)s (weight %(weight)d)")
                % {"name": criterion.name, "weight": criterion.weight},
                required=False,
                choices=[("", "—")]
                + [
                    (level.slug, f"{level.label} ({level.points})")
                    for level in criterion.levels.all()
                ],
            )
        # Criteria first, then the hand-set grade.
        self.order_fields([f"criterion_{c.slug}" for c in criteria] + ["grade", "reason"])

    def answers(self) -> dict[str, str]:
        given = {c.slug: self.cleaned_data.get(f"criterion_{c.slug}") or "" for c in self.criteria}
        return {slug: level for slug, level in given.items() if level}


class DesignateForm(_GradingForm):
    authority = forms.CharField(
        label=_("Designating authority"),
        max_length=200,
        help_text=_("The ministry or authority that designated it."),
    )
    designated_on = forms.DateField(label=_("Designated on"), widget=DATE)
    decision_reference = forms.CharField(
        label=_("Decision reference"), max_length=200, required=False
    )
    review_date = forms.DateField(
        label=_("First review"),
        widget=DATE,
        required=False,
        help_text=_("Default: a year after the designation."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.order_fields(
            ["authority", "designated_on", "decision_reference", "review_date"]
            + [f"criterion_{c.slug}" for c in self.criteria]
            + ["grade", "reason"]
        )


class RegradeForm(_GradingForm):
    pass


class ReviewForm(forms.Form):
    reviewed_on = forms.DateField(label=_("Reviewed on"), widget=DATE)
    next_review_date = forms.DateField(
        label=_("Next review"),
        widget=DATE,
        required=False,
        help_text=_("Default: a year after this review."),
    )
    note = forms.CharField(
        label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


class RevokeForm(forms.Form):
    revoked_on = forms.DateField(label=_("Revoked on"), widget=DATE)
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}))
