"""Forms of the Council pages. They parse input; the council services check the rules
and their refusals are shown on the form."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from certhub.awareness.council_choices import (
    Attendance,
    CouncilSeat,
    DisputeStatus,
    RecommendationKind,
    RecommendationStatus,
)
from certhub.awareness.council_models import CouncilMember
from certhub.awareness.council_selectors import council_teams, meetings_visible_to
from certhub.awareness.council_services import FOLLOW_UP_STATUSES_FOR_CERTS

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
ANY = [("", _("Any"))]


class _TeamChoice(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.name} ({obj.get_kind_display()})"


class _MeetingChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.held_on:%Y-%m-%d} {obj.title}"


def _meeting_field(user: Any, label: Any) -> _MeetingChoice:
    return _MeetingChoice(
        queryset=meetings_visible_to(user).order_by("-held_on"), required=False, label=label
    )


class AppointForm(forms.Form):
    username = forms.CharField(label=_("Username"), max_length=150)
    seat = forms.ChoiceField(label=_("Seat"), choices=CouncilSeat.choices)
    organization_name = forms.CharField(label=_("Represents"), max_length=200, required=False)
    term_start = forms.DateField(label=_("Term starts"), widget=DATE)
    term_end = forms.DateField(label=_("Term ends"), widget=DATE)


class EndTermForm(forms.Form):
    ended_on = forms.DateField(label=_("Term ends on"), widget=DATE)


class MeetingForm(forms.Form):
    held_on = forms.DateField(label=_("Date"), widget=DATE)
    title = forms.CharField(label=_("Title"), max_length=200)
    location = forms.CharField(label=_("Place"), max_length=200, required=False)
    agenda = forms.CharField(label=_("Agenda"), widget=forms.Textarea, required=False)
    minutes = forms.CharField(label=_("Minutes"), widget=forms.Textarea, required=False)


class AttendanceForm(forms.Form):
    """One choice per member whose term covers the meeting's date."""

    def __init__(self, *args: Any, members: list[CouncilMember], current: dict[int, str],
                 **kwargs: Any) -> None:  # fmt: skip
        super().__init__(*args, **kwargs)
        self.members = members
        for member in members:
            self.fields[f"member_{member.pk}"] = forms.ChoiceField(
                label=f"{member.user.get_full_name() or member.user.get_username()} "
                f"({member.get_seat_display()})",
                choices=Attendance.choices,
                initial=current.get(member.pk, Attendance.PRESENT),
            )

    def attendance(self) -> dict[int, str]:
        return {m.pk: self.cleaned_data[f"member_{m.pk}"] for m in self.members}


class RecommendationForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    text = forms.CharField(label=_("Recommendation"), widget=forms.Textarea)
    owner = forms.CharField(
        label=_("Owner"), max_length=200, help_text=_("Who carries it out: a ministry, a CERT.")
    )
    kind = forms.ChoiceField(label=_("Kind"), choices=RecommendationKind.choices)
    due_date = forms.DateField(label=_("Due date"), widget=DATE, required=False)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["meeting"] = _meeting_field(user, _("Adopted at"))
        self.fields["addressed_teams"] = _TeamChoice(
            queryset=council_teams(),
            required=False,
            label=_("Addressed to CERTs"),
            help_text=_("For a recommendation on notifying provincial and sectoral CERTs."),
            widget=forms.CheckboxSelectMultiple,
        )


class FollowUpForm(forms.Form):
    text = forms.CharField(label=_("What was done"), widget=forms.Textarea)
    status = forms.ChoiceField(label=_("Status after this"), required=False)

    def __init__(self, *args: Any, keeper: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        allowed = [
            (value, label)
            for value, label in RecommendationStatus.choices
            if keeper or value in FOLLOW_UP_STATUSES_FOR_CERTS
        ]
        status = self.fields["status"]
        assert isinstance(status, forms.ChoiceField)
        status.choices = [("", _("Unchanged")), *allowed]


class RegisterFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=200)
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=ANY + list(RecommendationStatus.choices)
    )
    kind = forms.ChoiceField(
        label=_("Kind"), required=False, choices=ANY + list(RecommendationKind.choices)
    )

    def filters(self) -> dict[str, str]:
        if not self.is_bound:
            return {}
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {key: data.get(key) or "" for key in ("q", "status", "kind")}


class DisputeForm(forms.Form):
    subject = forms.CharField(label=_("Subject"), max_length=200)
    description = forms.CharField(label=_("Description"), widget=forms.Textarea, required=False)
    raised_on = forms.DateField(label=_("Raised on"), widget=DATE)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["parties"] = _TeamChoice(
            queryset=council_teams(), label=_("Parties"), widget=forms.CheckboxSelectMultiple
        )


class DecideForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=DisputeStatus.choices)
    decision = forms.CharField(label=_("Decision"), widget=forms.Textarea, required=False)
    decided_on = forms.DateField(label=_("Decided on"), widget=DATE, required=False)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["meeting"] = _meeting_field(user, _("Decided at"))
