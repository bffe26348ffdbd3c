"""Forms of the incident pages: the guided report form, the citizens' public form, the
queue filters, and the forms on an incident page. They parse and check input only; the
services decide what is allowed."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from certhub.incidents.catalog import classification, severity_questions, taxonomy
from certhub.incidents.choices import TRANSITIONS, NoteVisibility, Priority, Status
from certhub.incidents.conf import setting
from certhub.incidents.selectors import REFERENCE_PATTERN
from certhub.tenancy.tlp import PAP, TLP, TLP_HELP

# Everyday words for the RSIT classes reporters meet most, so nobody has to know the
# taxonomy to classify a report. Entries whose class is not in the (editable) taxonomy
# are left out.
PLAIN_CLASSIFICATIONS: tuple[tuple[str, str, Any], ...] = (
    (
        "intrusions",
        "system-compromise",
        _("Someone got into an account or system (an attacker logged in or took control)"),
    ),
    (
        "fraud",
        "phishing",
        _("Fake e-mails, messages or web pages ask people for passwords or payments"),
    ),
    (
        "malicious-code",
        "infected-system",
        _("A computer is infected: ransomware, a virus, or files suddenly encrypted"),
    ),
    (
        "availability",
        "ddos",
        _("A website or service is down or very slow because it is being flooded"),
    ),
    (
        "information-content-security",
        "data-leak",
        _("Information was stolen, leaked or published without permission"),
    ),
    (
        "information-content-security",
        "unauthorised-information-modification",
        _("Information or a website was changed without permission (e.g. defaced)"),
    ),
    (
        "intrusion-attempts",
        "brute-force",
        _("Someone keeps trying to log in or to break in, so far without success"),
    ),
    (
        "information-gathering",
        "scanner",
        _("Our systems are being scanned or probed from outside"),
    ),
    (
        "fraud",
        "masquerade",
        _("Someone pretends to be us (a fake website, account or sender)"),
    ),
    ("abusive-content", "spam", _("Spam or abusive content is sent from or to our systems")),
    (
        "vulnerable",
        "vulnerable-system",
        _("We found a weakness that could be attacked (nothing happened yet)"),
    ),
    ("other", "undetermined", _("Something else, or I am not sure")),
)

MAX_FILES = 10
_REFERENCE = re.compile(REFERENCE_PATTERN)


def plain_classification_choices() -> list[tuple[str, Any]]:
    return [
        (f"{category}/{type_}", text)
        for category, type_, text in PLAIN_CLASSIFICATIONS
        if classification(category, type_) is not None
    ]


def rsit_choices() -> list[tuple[str, Any]]:
    """The whole taxonomy, grouped by category, for those who know it."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for found in taxonomy().values():
        groups.setdefault(found.category_name, []).append(
            (f"{found.category}/{found.type}", found.type_name)
        )
    choices: list[tuple[str, Any]] = [("", _("— not classified —"))]
    return choices + list(groups.items())


def split_classification(value: str) -> tuple[str, str]:
    category, _sep, type_ = (value or "").partition("/")
    return category, type_


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one field, each within the attachment size limit."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        files = data if isinstance(data, list | tuple) else ([data] if data else [])
        if len(files) > MAX_FILES:
            raise ValidationError(_("Attach at most %(n)d files.") % {"n": MAX_FILES})
        limit = setting("CERTHUB_ATTACHMENT_MAX_BYTES")
        cleaned = []
        for upload in files:
            upload = super().clean(upload, initial)
            if upload is None:
                continue
            if upload.size > limit:
                raise ValidationError(
                    _("%(name)s is too large (at most %(mb)s MB).")
                    % {"name": upload.name, "mb": limit // (1024 * 1024)}
                )
            cleaned.append(upload)
        return cleaned


def _datetime_field(label: Any, help_text: Any = "") -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label,
        required=False,
        help_text=help_text,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )


def _tlp_field(*, required: bool = True, initial: str = TLP.AMBER) -> forms.ChoiceField:
    choices: list[tuple[str, Any]] = list(TLP.choices)
    if not required:
        choices = [("", _("Same as the incident")), *choices]
    return forms.ChoiceField(
        label=_("Sharing (TLP)"),
        choices=choices,
        required=required,
        initial=initial if required else "",
        help_text=TLP_HELP,
    )


# --- Reporting -------------------------------------------------------------------------


class ReportForm(forms.Form):
    """The guided report of an organization member (or an incident recorded by staff)."""

    reporting_org = forms.ChoiceField(label=_("Reporting for"), required=False)
    what_happened = forms.ChoiceField(
        label=_("What happened?"),
        widget=forms.RadioSelect,
        required=False,
        help_text=_("Pick the closest; the CERT can correct it later."),
    )
    rsit = forms.ChoiceField(
        label=_("Exact classification (RSIT), if you know it"),
        required=False,
        help_text=_("Overrides the answer above."),
    )
    title = forms.CharField(
        label=_("Short title"),
        max_length=300,
        help_text=_("One line, e.g. \u201cRansomware on the branch office file server\u201d."),
    )
    description = forms.CharField(
        label=_("What do you know so far?"),
        required=False,
        max_length=100_000,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("What you saw, when, on which systems, and what you did about it."),
    )
    first_seen_at = _datetime_field(_("When did it start?"), _("Your best guess is fine."))
    detected_at = _datetime_field(_("When did you notice it?"))
    impact = forms.CharField(
        label=_("What is the impact on your work?"),
        required=False,
        max_length=100_000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Which services are affected, and for whom."),
    )
    affected_systems = forms.IntegerField(
        label=_("How many systems are affected?"), required=False, min_value=0, max_value=2**31 - 1
    )
    affected_people = forms.IntegerField(
        label=_("How many people (customers, staff) are affected?"),
        required=False,
        min_value=0,
        max_value=2**31 - 1,
    )
    data_breach = forms.BooleanField(
        label=_("Personal data may have been exposed or stolen"), required=False
    )
    tlp = forms.ChoiceField(
        label=_("Who may this report be shared with? (TLP)"),
        choices=TLP.choices,
        initial=TLP.AMBER,
        widget=forms.RadioSelect,
        help_text=TLP_HELP,
    )
    observables = forms.CharField(
        label=_("Indicators"),
        required=False,
        max_length=200_000,
        widget=forms.Textarea(attrs={"rows": 4, "spellcheck": "false"}),
        help_text=_(
            "Paste addresses, domains, URLs, e-mail senders, file hashes as you have them; "
            "defanged forms like hxxp://evil[.]example are understood."
        ),
    )
    attachments = MultipleFileField(
        label=_("Evidence files"),
        required=False,
        help_text=_("Logs, screenshots, suspicious mails: up to %(n)d files.") % {"n": MAX_FILES},
    )

    def __init__(self, *args: Any, organizations: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._choice("what_happened").choices = plain_classification_choices()
        self._choice("rsit").choices = rsit_choices()
        self._choice("reporting_org").choices = organizations
        if len(organizations) <= 1:
            self.fields["reporting_org"].widget = forms.HiddenInput()
            if organizations:
                self.fields["reporting_org"].initial = organizations[0][0]

    def _choice(self, name: str) -> forms.ChoiceField:
        field = self.fields[name]
        assert isinstance(field, forms.ChoiceField)
        return field

    def classification(self) -> tuple[str, str]:
        chosen = self.cleaned_data.get("rsit") or self.cleaned_data.get("what_happened") or ""
        return split_classification(chosen)


class PublicReportForm(forms.Form):
    """A citizen's report: no account, a few plain questions, a field robots fill in."""

    title = forms.CharField(label=_("In one line, what happened?"))
    description = forms.CharField(
        label=_("Tell us more"),
        widget=forms.Textarea(attrs={"rows": 7}),
        help_text=_(
            "What happened, when, and how it affects you. Do not send passwords or card numbers."
        ),
    )
    observables = forms.CharField(
        label=_("Suspicious addresses, links or senders"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false"}),
        help_text=_("Copy them as they are, e.g. a link from a scam message."),
    )
    name = forms.CharField(label=_("Your name"), required=False, max_length=200)
    email = forms.EmailField(
        label=_("Your e-mail address"),
        required=False,
        max_length=254,
        help_text=_("Only to confirm that we received your report."),
    )
    # The honeypot: hidden from people (CSS, not announced), filled in by robots.
    website = forms.CharField(
        label=_("Leave this field empty"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        title = self.fields["title"]
        description = self.fields["description"]
        observables = self.fields["observables"]
        assert isinstance(title, forms.CharField)
        assert isinstance(description, forms.CharField)
        assert isinstance(observables, forms.CharField)
        title.max_length = setting("CERTHUB_PUBLIC_REPORT_MAX_TITLE")
        description.max_length = setting("CERTHUB_PUBLIC_REPORT_MAX_DESCRIPTION")
        observables.max_length = setting("CERTHUB_PUBLIC_REPORT_MAX_DESCRIPTION")
        for field in (title, description, observables):
            # The limits are settings, read when the form is built (not at import).
            field.validators.append(MaxLengthValidator(field.max_length))
            field.widget.attrs["maxlength"] = str(field.max_length)


class StatusLookupForm(forms.Form):
    code = forms.CharField(
        label=_("Tracking code"),
        max_length=100,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )


# --- The queue -------------------------------------------------------------------------


class QueueFilterForm(forms.Form):
    """The queue's GET filters. Invalid values are dropped, not fatal (an old bookmark
    must still open the queue)."""

    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=200,
        widget=forms.TextInput(
            attrs={
                "type": "search",
                "placeholder": _("Reference, title, text or indicator"),
                "autocomplete": "off",
            }
        ),
    )
    status = forms.ChoiceField(label=_("Status"), required=False)
    priority = forms.TypedChoiceField(
        label=_("Priority"), required=False, coerce=int, empty_value=None
    )
    category = forms.ChoiceField(label=_("Category"), required=False)
    sector = forms.ChoiceField(label=_("Sector"), required=False)
    tlp = forms.ChoiceField(label=_("TLP"), required=False)
    team = forms.ChoiceField(label=_("Team"), required=False)
    assignee = forms.ChoiceField(label=_("Assignee"), required=False)
    overdue = forms.BooleanField(label=_("Overdue only"), required=False)

    NAMES = ("q", "status", "priority", "category", "sector", "tlp", "team", "assignee", "overdue")

    def __init__(
        self,
        *args: Any,
        categories: dict[str, str],
        sectors: list[tuple[str, str]],
        teams: list[tuple[str, str]],
        assignees: list[str],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        any_choice: list[tuple[str, Any]] = [("", _("Any"))]
        choices: dict[str, list[tuple[str, Any]]] = {
            "status": any_choice + list(Status.choices),
            "priority": any_choice + [(str(v), label) for v, label in Priority.choices],
            "category": any_choice + list(categories.items()),
            "sector": any_choice + sectors,
            "tlp": any_choice + list(TLP.choices),
            "team": any_choice + teams,
            "assignee": any_choice + [(name, name) for name in assignees],
        }
        for name, values in choices.items():
            field = self.fields[name]
            assert isinstance(field, forms.ChoiceField)
            field.choices = values

    def filters(self) -> dict[str, Any]:
        if not self.is_bound:
            return {}
        self.is_valid()
        data = self.cleaned_data
        return {
            "q": data.get("q") or "",
            "status": data.get("status") or "",
            "priority": data.get("priority"),
            "category": data.get("category") or "",
            "sector": data.get("sector") or "",
            "tlp": data.get("tlp") or "",
            "team": data.get("team") or "",
            "assignee": data.get("assignee") or "",
            "overdue": True if data.get("overdue") else None,
        }

    def query(self) -> str:
        """The valid, non-empty filters as a query string (what a saved view keeps)."""
        query = QueryDict(mutable=True)
        for name, value in self.filters().items():
            if value in ("", None):
                continue
            query[name] = "on" if value is True else str(value)
        return query.urlencode()


class BulkForm(forms.Form):
    prefix = "bulk"

    ASSIGN = "assign"
    STATUS = "status"

    references = forms.MultipleChoiceField(label=_("Incidents"), required=False)
    action = forms.ChoiceField(
        label=_("Change"),
        choices=[(ASSIGN, _("Assign to")), (STATUS, _("Set status to"))],
    )
    assignee = forms.ChoiceField(label=_("Assignee"), required=False)
    status = forms.ChoiceField(label=_("Status"), required=False, choices=Status.choices)
    next = forms.CharField(required=False, max_length=2000, widget=forms.HiddenInput)

    def __init__(self, *args: Any, assignees: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        refs = self.fields["references"]
        assignee = self.fields["assignee"]
        assert isinstance(refs, forms.MultipleChoiceField)
        assert isinstance(assignee, forms.ChoiceField)
        # Any reference-shaped value: the service checks each against what the user sees.
        refs.choices = (
            [(r, r) for r in self.data.getlist(self.add_prefix("references"))]
            if isinstance(self.data, QueryDict)
            else []
        )
        refs.validators.append(_references_validator)
        assignee.choices = [("", _("nobody (unassign)"))] + [(n, n) for n in assignees]

    def changes(self) -> dict[str, Any]:
        data = self.cleaned_data
        if data["action"] == self.ASSIGN:
            return {"assignee": data.get("assignee") or None}
        return {"status": data.get("status") or ""}


def _references_validator(values: list[str]) -> None:
    for value in values:
        if not _REFERENCE.match(value):
            raise ValidationError(_("%(v)s is not an incident reference.") % {"v": value[:60]})


class SaveViewForm(forms.Form):
    prefix = "save"

    name = forms.CharField(label=_("Save these filters as"), max_length=100)
    query = forms.CharField(required=False, max_length=2000, widget=forms.HiddenInput)


# --- One incident ----------------------------------------------------------------------


class NoteForm(forms.Form):
    prefix = "note"

    body = forms.CharField(
        label=_("Note"), max_length=100_000, widget=forms.Textarea(attrs={"rows": 3})
    )
    visibility = forms.ChoiceField(
        label=_("Who reads it"),
        choices=NoteVisibility.choices,
        initial=NoteVisibility.INTERNAL,
        widget=forms.RadioSelect,
    )
    tlp = _tlp_field(required=False)


class TaskForm(forms.Form):
    prefix = "task"

    title = forms.CharField(label=_("Task"), max_length=300)
    description = forms.CharField(
        label=_("Details"),
        required=False,
        max_length=100_000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    due_at = _datetime_field(_("Due"))
    assignee = forms.ChoiceField(label=_("Assignee"), required=False)

    def __init__(self, *args: Any, staff: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["assignee"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", _("nobody yet"))] + [(n, n) for n in staff]


class ObservablesForm(forms.Form):
    prefix = "obs"

    text = forms.CharField(
        label=_("Indicators"),
        max_length=200_000,
        widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false"}),
        help_text=_("Paste text: addresses, domains, URLs, hashes... (defanged forms too)."),
    )
    comment = forms.CharField(label=_("Comment"), required=False, max_length=500)
    tlp = _tlp_field(required=False)
    internal = forms.BooleanField(label=_("Internal (CERT staff only)"), required=False)


class AttachmentForm(forms.Form):
    prefix = "att"

    uploads = MultipleFileField(label=_("Files"))
    tlp = _tlp_field(required=False)


class TriageForm(forms.Form):
    prefix = "triage"

    status = forms.ChoiceField(label=_("Status"))
    duplicate_of = forms.RegexField(
        label=_("Duplicate of (reference)"),
        regex=REFERENCE_PATTERN,
        required=False,
        help_text=_("Only when the status is Duplicate."),
    )
    assignee = forms.ChoiceField(label=_("Assignee"), required=False)
    rsit = forms.ChoiceField(label=_("Classification (RSIT)"), required=False)
    tlp = forms.ChoiceField(label=_("TLP"), choices=TLP.choices)
    pap = forms.ChoiceField(label=_("PAP"), choices=PAP.choices)

    def __init__(self, *args: Any, current_status: str, staff: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        labels = dict(Status.choices)
        allowed = [current_status, *sorted(TRANSITIONS[current_status])]
        choices: dict[str, list[Any]] = {
            "status": [(s, labels[s]) for s in allowed],
            "assignee": [("", _("nobody"))] + [(n, n) for n in staff],
            "rsit": rsit_choices(),
        }
        for name, values in choices.items():
            field = self.fields[name]
            assert isinstance(field, forms.ChoiceField)
            field.choices = values

    def changes(self) -> dict[str, Any]:
        data = self.cleaned_data
        category, type_ = split_classification(data.get("rsit") or "")
        changes: dict[str, Any] = {
            "status": data["status"],
            "assignee": data.get("assignee") or None,
            "category": category,
            "type": type_,
            "tlp": data["tlp"],
            "pap": data["pap"],
        }
        if data.get("duplicate_of"):
            changes["duplicate_of"] = data["duplicate_of"]
        return changes


class SeverityForm(forms.Form):
    """The NCISS-style questions, built from data/severity.json."""

    prefix = "sev"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for question in severity_questions():
            self.fields[question.slug] = forms.ChoiceField(
                label=question.name,
                choices=[("", _("— choose —")), *question.answers],
            )

    def answers(self) -> dict[str, str]:
        return {slug: str(value) for slug, value in self.cleaned_data.items()}


class EscalateForm(forms.Form):
    prefix = "esc"

    to_team = forms.ChoiceField(label=_("Escalate to"))
    reason = forms.CharField(label=_("Reason"), max_length=500)

    def __init__(self, *args: Any, teams: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["to_team"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = teams


class DelegateForm(EscalateForm):
    prefix = "del"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["to_team"].label = _("Delegate to")


class ParticipantForm(forms.Form):
    prefix = "part"

    team = forms.ChoiceField(label=_("Bring in"))
    reason = forms.CharField(label=_("Why"), required=False, max_length=500)

    def __init__(self, *args: Any, teams: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["team"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = teams


def form_error_text(form: forms.Form) -> str:
    """All of a form's errors as one sentence for a message."""
    parts = []
    for name, errors in form.errors.items():
        label = form.fields[name].label if name in form.fields else ""
        for error in errors:
            parts.append(f"{label}: {error}" if label else str(error))
    return " ".join(parts)
