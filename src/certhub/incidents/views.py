"""The incident pages: the team queue, the guided report form and its acknowledgement,
the incident page with its work sections, and the reporter's view of its own incident.

Thin views: parse the request, call one incident selector or service, render. Every
incident is read through ``selectors.get_incident`` (an incident the user may not see
is the 404 page); every change goes through ``services`` (which check the role: a
refusal is shown as a message with its 4xx status, never a 500).

Forms post as plain HTML (POST, then redirect) and, with htmx, swap only the section
they change (plus the facts and the timeline, which every change touches)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from certhub.accounts.selectors import client_address, current_user
from certhub.core.errors import CerthubError, Invalid, NotFound, Throttled
from certhub.core.http import not_found_as_404, render_page_or_fragment, wants_fragment
from certhub.incidents import catalog, selectors, services
from certhub.incidents.choices import (
    PRIORITY_COLOURS,
    DeadlineKind,
    NoteVisibility,
    Priority,
    Status,
)
from certhub.incidents.forms import (
    AttachmentForm,
    BulkForm,
    DelegateForm,
    EscalateForm,
    NoteForm,
    ObservablesForm,
    ParticipantForm,
    PublicReportForm,
    QueueFilterForm,
    ReportForm,
    SaveViewForm,
    SeverityForm,
    StatusLookupForm,
    TaskForm,
    TriageForm,
    form_error_text,
)
from certhub.incidents.models import Deadline, Incident
from certhub.incidents.observables import extract
from certhub.incidents.panels import panels_for
from certhub.incidents.selectors import Access, access_for
from certhub.tenancy.selectors import (
    memberships_of,
    organizations_visible_to,
    sectors_visible_to,
    teams_visible_to,
)
from certhub.tenancy.visibility import TEAM_WRITE_ROLES, scope_for

QUEUE_PAGE = 50

# How a timeline entry's action reads on the page.
ACTIONS = {
    "reported": gettext_lazy("Reported"),
    "observables_added": gettext_lazy("Indicators added"),
    "attachment_added": gettext_lazy("File attached"),
    "status_changed": gettext_lazy("Status changed"),
    "assigned": gettext_lazy("Assigned"),
    "updated": gettext_lazy("Updated"),
    "escalated": gettext_lazy("Escalated"),
    "delegated": gettext_lazy("Delegated"),
    "participant_added": gettext_lazy("Team brought in"),
    "participant_removed": gettext_lazy("Team removed"),
    "note_added": gettext_lazy("Note added"),
    "task_added": gettext_lazy("Task added"),
    "task_completed": gettext_lazy("Task completed"),
    "linked": gettext_lazy("Linked"),
    "deadline_met": gettext_lazy("Deadline met"),
    "deadline_breached": gettext_lazy("Deadline missed"),
}


def _is_staff_worker(user: Any) -> bool:
    """An analyst or coordinator of some team: the queue's bulk changes are for them."""
    return any(seat.role in TEAM_WRITE_ROLES for seat in scope_for(user).teams)


# --- Presentation helpers --------------------------------------------------------------


@dataclass(frozen=True)
class DeadlineRow:
    label: str
    due_at: dt.datetime
    met_at: dt.datetime | None
    paused: bool
    overdue: bool


def deadline_rows(incident: Incident, now: dt.datetime) -> list[DeadlineRow]:
    rows = []
    for deadline in incident.deadlines.all():
        rows.append(_deadline_row(deadline, now))
    return rows


def _deadline_row(deadline: Deadline, now: dt.datetime) -> DeadlineRow:
    return DeadlineRow(
        label=str(DeadlineKind(deadline.kind).label),
        due_at=deadline.due_at,
        met_at=deadline.met_at,
        paused=deadline.paused_at is not None,
        overdue=deadline.met_at is None and deadline.paused_at is None and deadline.due_at < now,
    )


def priority_view(priority: int) -> dict[str, str]:
    return {"label": str(Priority(priority).label), "colour": PRIORITY_COLOURS[priority]}


def tlp_class(tlp: str) -> str:
    return "tlp-" + tlp.lower().replace("+", "")


@dataclass(frozen=True)
class QueueRow:
    incident: Incident
    access: Access
    priority: dict[str, str]
    tlp_class: str
    overdue: bool
    next_due: DeadlineRow | None
    category_name: str


def _queue_row(user: Any, incident: Incident, now: dt.datetime) -> QueueRow:
    open_rows = [
        _deadline_row(d, now)
        for d in incident.deadlines.all()
        if d.met_at is None and d.paused_at is None
    ]
    return QueueRow(
        incident=incident,
        access=access_for(user, incident),
        priority=priority_view(incident.priority),
        tlp_class=tlp_class(incident.tlp),
        overdue=selectors.is_overdue(incident, now),
        next_due=min(open_rows, key=lambda row: row.due_at) if open_rows else None,
        category_name=catalog.categories().get(incident.category, incident.category),
    )


# --- The queue -------------------------------------------------------------------------


def _filter_form(user: Any, data: Any) -> QueueFilterForm:
    teams = teams_visible_to(user).order_by("path").values_list("slug", "name", "depth")
    return QueueFilterForm(
        data,
        categories=catalog.categories(),
        sectors=list(sectors_visible_to(user).values_list("slug", "name")),
        teams=[(slug, f"{'— ' * depth}{name}") for slug, name, depth in teams],
        assignees=[u.get_username() for u in selectors.colleagues_of(user)],
    )


def _queue_context(user: Any, params: QueryDict) -> dict[str, Any]:
    form = _filter_form(user, params or None)
    incidents = selectors.incidents_matching(user, **form.filters())
    cursor = params.get("cursor") or None
    try:
        page = selectors.page_newest_first(incidents, limit=QUEUE_PAGE, cursor=cursor)
    except Invalid:
        page = selectors.page_newest_first(incidents, limit=QUEUE_PAGE, cursor=None)
    now = timezone.now()
    query = form.query()
    worker = _is_staff_worker(user)
    scope = scope_for(user)
    return {
        "form": form,
        "rows": [_queue_row(user, incident, now) for incident in page.items],
        "next_cursor": page.next_cursor,
        "first_page": cursor is None,
        "query": query,
        "worker": worker,
        "is_staff": bool(scope.teams) or scope.is_admin,
        "bulk_form": BulkForm(
            initial={"next": query},
            assignees=[u.get_username() for u in selectors.colleagues_of(user)],
        )
        if worker
        else None,
        "my_teams": list(teams_visible_to(user).filter(pk__in=sorted(scope.team_ids))),
        "saved_views": selectors.saved_views_for(user),
        "save_form": SaveViewForm(initial={"query": query}),
        "can_report": bool(scope.org_ids) or worker,
    }


@login_required
@require_GET
def queue(request: HttpRequest) -> HttpResponse:
    user = current_user(request)
    context = _queue_context(user, request.GET)
    return render_page_or_fragment(
        request, "incidents/queue.html", "incidents/_queue_results.html", context
    )


def _queue_url(query: str) -> str:
    url = reverse("incidents:queue")
    return f"{url}?{query}" if query else url


def _clean_query(user: Any, value: str) -> str:
    """A query string taken back from a form, rebuilt from its valid filters only."""
    return _filter_form(user, QueryDict((value or "").lstrip("?")[:2000])).query()


@login_required
@require_POST
def bulk(request: HttpRequest) -> HttpResponse:
    user = current_user(request)
    form = BulkForm(
        request.POST, assignees=[u.get_username() for u in selectors.colleagues_of(user)]
    )
    query = _clean_query(user, request.POST.get("bulk-next", ""))
    status = 200
    if not form.is_valid():
        error = form_error_text(form)
        status = 400
    else:
        try:
            changed = services.bulk_update_incidents(
                actor=user, references=form.cleaned_data["references"], changes=form.changes()
            )
            error = ""
        except CerthubError as exc:
            error, status = exc.message, exc.status
    if error:
        messages.error(request, error)
    else:
        messages.success(
            request,
            _("%(n)d incidents changed; each change is on its timeline.") % {"n": len(changed)},
        )
    if wants_fragment(request) or status != 200:
        # Show the queue again with the message, at the error's status (a plain POST
        # that was refused answers 403/400, not a redirect to a page that hides it).
        context = _queue_context(user, QueryDict(query))
        if wants_fragment(request):
            return render(request, "incidents/_queue_results.html", context)
        return render(request, "incidents/queue.html", context, status=status)
    return redirect(_queue_url(query))


@login_required
@require_POST
def save_view(request: HttpRequest) -> HttpResponse:
    user = current_user(request)
    form = SaveViewForm(request.POST)
    query = _clean_query(user, request.POST.get("save-query", ""))
    if not form.is_valid():
        messages.error(request, form_error_text(form))
        return redirect(_queue_url(query))
    try:
        view = services.save_view(actor=user, name=form.cleaned_data["name"], query=query)
    except CerthubError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("View \u201c%(name)s\u201d saved.") % {"name": view.name})
    return redirect(_queue_url(query))


@login_required
@require_POST
def delete_view(request: HttpRequest, pk: int) -> HttpResponse:
    user = current_user(request)
    try:
        services.delete_saved_view(actor=user, view_id=pk)
    except CerthubError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Saved view deleted."))
    return redirect("incidents:queue")


# --- Reporting -------------------------------------------------------------------------


def _reporting_choices(user: Any) -> tuple[list[tuple[str, str]], bool]:
    """The organizations the user may report for, and whether it is CERT staff (which
    may also record an incident without an organization, for its own team)."""
    _team_seats, org_seats = memberships_of(user)
    if _is_staff_worker(user):
        orgs = organizations_visible_to(user).order_by("name").values_list("slug", "name")
        return [("", _("No organization (recorded for my team)")), *orgs], True
    return [(m.organization.slug, m.organization.name) for m in org_seats if m.organization], False


@login_required
@require_http_methods(["GET", "POST"])
def report(request: HttpRequest) -> HttpResponse:
    user = current_user(request)
    organizations, staff = _reporting_choices(user)
    if not organizations:
        return render(
            request,
            "incidents/cannot_report.html",
            {"message": _("Only organization members and CERT analysts can report incidents.")},
            status=403,
        )
    form = ReportForm(request.POST or None, request.FILES or None, organizations=organizations)
    context: dict[str, Any] = {"form": form, "staff": staff}
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if "preview" in request.POST:
            # Without JavaScript: show what the pasted text gives, keep the answers.
            context["preview"] = extract(data["observables"])
            context["previewed"] = True
            return render(request, "incidents/report.html", context)
        category, type_ = form.classification()
        try:
            incident = services.report_incident(
                actor=user,
                title=data["title"],
                description=data["description"],
                reporting_org=data.get("reporting_org") or None,
                category=category,
                type=type_,
                tlp=data["tlp"],
                first_seen_at=data.get("first_seen_at"),
                detected_at=data.get("detected_at"),
                impact=data["impact"],
                affected_systems=data.get("affected_systems"),
                affected_people=data.get("affected_people"),
                data_breach=data["data_breach"],
                observables_text=data["observables"],
                attachments=[
                    services.UploadedFile(filename=f.name or "", content=f.read())
                    for f in data["attachments"]
                ],
                ip_address=client_address(request),
            )
        except CerthubError as exc:
            context["error"] = exc.message
            return render(request, "incidents/report.html", context, status=exc.status)
        return redirect("incidents:received", reference=incident.reference)
    status = 400 if form.is_bound and form.errors else 200
    return render(request, "incidents/report.html", context, status=status)


@login_required
@require_POST
def preview_observables(request: HttpRequest) -> HttpResponse:
    """What the pasted indicators give, as the reporter types (an htmx fragment)."""
    text = request.POST.get("observables", "")[:200_000]
    return render(
        request, "incidents/_observable_preview.html", {"preview": extract(text), "text": text}
    )


@login_required
@not_found_as_404
def received(request: HttpRequest, reference: str) -> HttpResponse:
    user = current_user(request)
    incident = selectors.get_incident(user, reference)
    access = access_for(user, incident)
    return render(
        request,
        "incidents/received.html",
        {
            "incident": incident,
            "observables": selectors.observables_for(incident, access),
            "attachments": selectors.attachments_for(incident, access),
            "deadlines": deadline_rows(incident, timezone.now()),
        },
    )


# --- One incident ----------------------------------------------------------------------


def _names(teams: list[Any]) -> list[tuple[str, str]]:
    return [(team.slug, team.name) for team in teams]


def _forms_for(user: Any, incident: Incident, access: Access) -> dict[str, forms.Form]:
    staff = [u.get_username() for u in selectors.staff_of(incident)]
    result: dict[str, forms.Form] = {}
    note = NoteForm(initial={"visibility": NoteVisibility.INTERNAL})
    if not access.can_contribute:
        note.fields["visibility"].widget = forms.HiddenInput()
        note.initial["visibility"] = NoteVisibility.SHARED
    result["note"] = note
    result["observables"] = ObservablesForm()
    if not access.can_contribute:
        del result["observables"].fields["internal"]
    result["attachment"] = AttachmentForm()
    if access.can_contribute:
        result["task"] = TaskForm(staff=staff)
    if access.can_handle:
        result["triage"] = TriageForm(
            current_status=incident.status,
            staff=staff,
            initial={
                "status": incident.status,
                "assignee": incident.assignee.get_username() if incident.assignee else "",
                "rsit": f"{incident.category}/{incident.type}" if incident.category else "",
                "tlp": incident.tlp,
                "pap": incident.pap,
            },
        )
        result["severity"] = SeverityForm(initial=incident.severity_answers or {})
        targets = _names(selectors.escalation_targets(incident))
        if targets:
            result["escalate"] = EscalateForm(teams=targets)
    if access.can_coordinate:
        below = _names(selectors.delegation_targets(user, incident))
        if below:
            result["delegate"] = DelegateForm(teams=below)
        candidates = _names(selectors.participant_candidates(user, incident))
        if candidates:
            result["participant"] = ParticipantForm(teams=candidates)
    return result


def _detail_context(
    user: Any,
    incident: Incident,
    *,
    bound: dict[str, forms.Form] | None = None,
    errors: dict[str, str] | None = None,
    notices: dict[str, str] | None = None,
) -> dict[str, Any]:
    access = access_for(user, incident)
    now = timezone.now()
    found = catalog.classification(incident.category, incident.type)
    context: dict[str, Any] = {
        "incident": incident,
        "access": access,
        "priority": priority_view(incident.priority),
        "tlp_class": tlp_class(incident.tlp),
        "classification": found,
        "category_name": catalog.categories().get(incident.category, incident.category),
        "errors": errors or {},
        "notices": notices or {},
        "sectors": sorted(
            {o.sector.name for o in incident.affected_orgs.all()}
            | ({incident.reporting_org.sector.name} if incident.reporting_org else set())
        ),
    }
    if not access.full_content:
        return context
    attachments = selectors.attachments_for(incident, access)
    custody = selectors.custody_for(attachments)
    notes_visible = selectors.notes_for(user, incident, access)
    forms_ = _forms_for(user, incident, access)
    forms_.update(bound or {})
    context |= {
        "deadlines": deadline_rows(incident, now),
        "overdue": selectors.is_overdue(incident, now),
        "participants": [p.team for p in incident.participations.all()] if access.is_staff else [],
        "notes": [
            (
                note,
                _author(
                    user,
                    incident,
                    access,
                    note.author_id,
                    note.author.get_username() if note.author else "",
                ),
            )
            for note in notes_visible
        ],
        "tasks": selectors.tasks_for(incident, access),
        "observables": selectors.observables_for(incident, access),
        "attachments": attachments,
        "attachment_rows": [(a, custody[a.pk]) for a in attachments],
        "timeline": [
            (
                entry,
                ACTIONS.get(entry.action, entry.action.replace("_", " ")),
                _changed(entry),
                _author(user, incident, access, entry.actor_id, entry.actor_name),
            )
            for entry in selectors.timeline_for(incident, access)
        ],
        "severity_answers": _severity_answers(incident) if access.is_staff else [],
        "panels": panels_for(user, incident, access),
        "forms": forms_,
        "now": now,
    }
    return context


def _author(user: Any, incident: Incident, access: Access, author_id: Any, name: str) -> str:
    """Who wrote a note or did a step, as this reader may know it: CERT staff see names;
    the reporting side sees its own people, and the handling CERT's name for staff
    (whose names and addresses are not disclosed to it)."""
    if not name:
        return ""
    if access.is_staff or (
        author_id is not None and author_id in (user.pk, incident.reported_by_id)
    ):
        return name
    return incident.handling_team.name


# Changes worth a line on the timeline, as "what: before -> after".
TIMELINE_FIELDS = ("status", "handling_team", "assignee", "priority", "participant", "tlp")


def _changed(entry: Any) -> str:
    parts = []
    for name in TIMELINE_FIELDS:
        value = (entry.changes or {}).get(name)
        if isinstance(value, list) and len(value) == 2:
            before, after = ("—" if v in (None, "") else v for v in value)
            if name == "priority":
                before, after = (
                    Priority(v).label if isinstance(v, int) else v for v in (before, after)
                )
            parts.append(f"{name.replace('_', ' ')}: {before} \u2192 {after}")
    return "; ".join(parts)


def _severity_answers(incident: Incident) -> list[tuple[str, str]]:
    answers = incident.severity_answers or {}
    return [
        (q.name, dict(q.answers).get(answers[q.slug], answers[q.slug]))
        for q in catalog.severity_questions()
        if q.slug in answers
    ]


@login_required
@require_GET
@not_found_as_404
def detail(request: HttpRequest, reference: str) -> HttpResponse:
    user = current_user(request)
    incident = selectors.get_incident(user, reference)
    return render(request, "incidents/detail.html", _detail_context(user, incident))


class _BadForm(Invalid):
    """A form on the incident page did not validate: re-shown with its errors."""

    def __init__(self, name: str, form: forms.Form) -> None:
        super().__init__(form_error_text(form) or _("Check the form."))
        self.name = name
        self.form = form


# Which section of the page each action re-renders with htmx ("incident": all of it).
SECTION_TEMPLATES = {
    "notes": "incidents/_notes.html",
    "tasks": "incidents/_tasks.html",
    "observables": "incidents/_observables.html",
    "attachments": "incidents/_attachments.html",
    "incident": "incidents/_incident.html",
}

Action = Callable[[Any, Incident, HttpRequest], str]


def _act(request: HttpRequest, reference: str, section: str, action: Action) -> HttpResponse:
    """Run one change on a visible incident and answer: with htmx the changed section
    (and, out of band, the facts and the timeline); otherwise a redirect to the page,
    or the page with the refusal at its status (400, 403, 404, 409)."""
    user = current_user(request)
    incident = selectors.get_incident(user, reference)
    bound: dict[str, forms.Form] = {}
    errors: dict[str, str] = {}
    notices: dict[str, str] = {}
    status = 200
    try:
        notice = action(user, incident, request)
    except _BadForm as exc:
        bound[exc.name] = exc.form
        errors[section] = exc.message
        status = exc.status
    except CerthubError as exc:
        errors[section] = exc.message
        status = exc.status
    else:
        notices[section] = notice
    try:
        incident = selectors.get_incident(user, reference)
    except NotFound:
        # The change took the incident out of the user's sight (e.g. delegated away).
        messages.success(request, notices.get(section, ""))
        return redirect("incidents:queue")
    if wants_fragment(request):
        context = _detail_context(user, incident, bound=bound, errors=errors, notices=notices)
        context["oob"] = section != "incident"
        return render(request, SECTION_TEMPLATES[section], context)
    if status == 200:
        messages.success(request, notices[section])
        anchor = "" if section == "incident" else f"#{section}"
        return redirect(reverse("incidents:detail", args=[incident.reference]) + anchor)
    context = _detail_context(user, incident, bound=bound, errors=errors)
    context["page_error"] = errors[section]
    return render(request, "incidents/detail.html", context, status=status)


def _bound(name: str, form: forms.Form) -> dict[str, Any]:
    if not form.is_valid():
        raise _BadForm(name, form)
    return form.cleaned_data


def _add_note(user: Any, incident: Incident, request: HttpRequest) -> str:
    data = _bound("note", NoteForm(request.POST))
    services.add_note(
        actor=user,
        incident=incident,
        body=data["body"],
        visibility=data["visibility"],
        tlp=data["tlp"] or None,
    )
    return _("Note added.")


def _add_task(user: Any, incident: Incident, request: HttpRequest) -> str:
    staff = [u.get_username() for u in selectors.staff_of(incident)]
    data = _bound("task", TaskForm(request.POST, staff=staff))
    services.add_task(
        actor=user,
        incident=incident,
        title=data["title"],
        description=data["description"],
        due_at=data.get("due_at"),
        assignee=data.get("assignee") or None,
    )
    return _("Task added.")


def _complete_task(task_id: int) -> Action:
    def run(user: Any, incident: Incident, request: HttpRequest) -> str:
        task = selectors.get_task(incident, access_for(user, incident), task_id)
        services.complete_task(actor=user, incident=incident, task_id=task.pk)
        return _("Task \u201c%(title)s\u201d completed.") % {"title": task.title}

    return run


def _add_observables(user: Any, incident: Incident, request: HttpRequest) -> str:
    data = _bound("observables", ObservablesForm(request.POST))
    added = services.add_observables(
        actor=user,
        incident=incident,
        text=data["text"],
        tlp=data["tlp"] or None,
        internal=bool(data.get("internal")),
        comment=data["comment"],
    )
    if not added:
        return _("These indicators were already on the incident.")
    return _("%(n)d indicators added.") % {"n": len(added)}


def _add_attachments(user: Any, incident: Incident, request: HttpRequest) -> str:
    data = _bound("attachment", AttachmentForm(request.POST, request.FILES))
    for upload in data["uploads"]:
        services.add_attachment(
            actor=user,
            incident=incident,
            upload=services.UploadedFile(filename=upload.name or "", content=upload.read()),
            tlp=data["tlp"] or None,
            ip_address=client_address(request),
        )
    return _("%(n)d files attached.") % {"n": len(data["uploads"])}


def _triage(user: Any, incident: Incident, request: HttpRequest) -> str:
    staff = [u.get_username() for u in selectors.staff_of(incident)]
    form = TriageForm(request.POST, current_status=incident.status, staff=staff)
    data = _bound("triage", form)
    del data
    services.update_incident(actor=user, incident=incident, changes=form.changes())
    return _("Incident updated.")


def _assess(user: Any, incident: Incident, request: HttpRequest) -> str:
    form = SeverityForm(request.POST)
    _bound("severity", form)
    services.update_incident(actor=user, incident=incident, changes={"severity": form.answers()})
    return _("Severity assessed; the priority follows from it.")


def _escalate(user: Any, incident: Incident, request: HttpRequest) -> str:
    form = EscalateForm(request.POST, teams=_names(selectors.escalation_targets(incident)))
    data = _bound("escalate", form)
    services.escalate_incident(
        actor=user, incident=incident, reason=data["reason"], to_team=data["to_team"]
    )
    return _("Incident escalated.")


def _delegate(user: Any, incident: Incident, request: HttpRequest) -> str:
    form = DelegateForm(request.POST, teams=_names(selectors.delegation_targets(user, incident)))
    data = _bound("delegate", form)
    services.delegate_incident(
        actor=user, incident=incident, to_team=data["to_team"], reason=data["reason"]
    )
    return _("Incident delegated.")


def _add_participant(user: Any, incident: Incident, request: HttpRequest) -> str:
    form = ParticipantForm(
        request.POST, teams=_names(selectors.participant_candidates(user, incident))
    )
    data = _bound("participant", form)
    services.add_participant(
        actor=user, incident=incident, team=data["team"], reason=data["reason"]
    )
    return _("Team brought in.")


def _remove_participant(team: str) -> Action:
    def run(user: Any, incident: Incident, request: HttpRequest) -> str:
        services.remove_participant(actor=user, incident=incident, team=team)
        return _("Team removed from the incident.")

    return run


def _action_view(section: str, action: Action) -> Callable[..., HttpResponse]:
    @login_required
    @require_POST
    @not_found_as_404
    def view(request: HttpRequest, reference: str) -> HttpResponse:
        return _act(request, reference, section, action)

    return view


add_note = _action_view("notes", _add_note)
add_task = _action_view("tasks", _add_task)
add_observables = _action_view("observables", _add_observables)
add_attachments = _action_view("attachments", _add_attachments)
triage = _action_view("incident", _triage)
assess = _action_view("incident", _assess)
escalate = _action_view("incident", _escalate)
delegate = _action_view("incident", _delegate)
add_participant = _action_view("incident", _add_participant)


@login_required
@require_POST
@not_found_as_404
def complete_task(request: HttpRequest, reference: str, task_id: int) -> HttpResponse:
    return _act(request, reference, "tasks", _complete_task(task_id))


@login_required
@require_POST
@not_found_as_404
def remove_participant(request: HttpRequest, reference: str, team: str) -> HttpResponse:
    return _act(request, reference, "incident", _remove_participant(team))


@login_required
@require_GET
@not_found_as_404
def download(request: HttpRequest, reference: str, sha256: str) -> HttpResponse:
    user = current_user(request)
    incident = selectors.get_incident(user, reference)
    access = access_for(user, incident)
    attachment = selectors.get_attachment(user, incident, access, sha256)
    try:
        content = services.download_attachment(
            actor=user, attachment=attachment, ip_address=client_address(request)
        )
    except CerthubError as exc:
        context = _detail_context(user, incident, errors={"attachments": exc.message})
        context["page_error"] = exc.message
        return render(request, "incidents/detail.html", context, status=exc.status)
    response = HttpResponse(content, content_type=attachment.content_type)
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=attachment.filename
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["X-Certhub-TLP"] = attachment.tlp
    return response


# --- Public reports (citizens, no account) ---------------------------------------------


def _no_store(response: HttpResponse) -> HttpResponse:
    # A tracking code and a report's status are for this visitor only: never cached.
    response["Cache-Control"] = "no-store"
    return response


@require_http_methods(["GET", "POST"])
def public_report(request: HttpRequest) -> HttpResponse:
    form = PublicReportForm(request.POST or None)
    if request.method != "POST" or not form.is_valid():
        status = 400 if form.is_bound else 200
        return render(request, "incidents/public_report.html", {"form": form}, status=status)
    data = form.cleaned_data
    try:
        receipt = services.submit_public_report(
            title=data["title"],
            description=data["description"],
            reporter_name=data["name"],
            reporter_email=data["email"],
            observables_text=data["observables"],
            honeypot=data["website"],
            ip_address=client_address(request),
        )
    except Throttled as exc:
        return render(
            request, "incidents/public_throttled.html", {"message": exc.message}, status=429
        )
    except CerthubError as exc:
        return render(
            request,
            "incidents/public_report.html",
            {"form": form, "error": exc.message},
            status=exc.status,
        )
    # Shown here, once: the code is not kept anywhere it could be read again.
    return _no_store(
        render(request, "incidents/public_received.html", {"code": receipt.tracking_code})
    )


@require_http_methods(["GET", "POST"])
def public_status(request: HttpRequest) -> HttpResponse:
    # POST, so the code never lands in a URL, a history or a proxy log.
    form = StatusLookupForm(request.POST or None)
    context: dict[str, Any] = {"form": form}
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            incident = selectors.public_report_status(form.cleaned_data["code"])
        except NotFound as exc:
            context["error"] = exc.message
            status = 404
        else:
            context["report"] = {
                "status": incident.status,
                "status_label": Status(incident.status).label,
                "explanation": PUBLIC_STATUS_TEXT.get(incident.status, ""),
                "received_at": incident.reported_at,
                "updated_at": incident.updated_at,
            }
    elif form.is_bound:
        status = 400
    return _no_store(render(request, "incidents/public_status.html", context, status=status))


# What each status means to a citizen (no CERT jargon, no internal detail).
PUBLIC_STATUS_TEXT = {
    "new": gettext_lazy("Your report was received and waits for an analyst."),
    "triaged": gettext_lazy("An analyst has read your report and decided how to handle it."),
    "in_progress": gettext_lazy("The CERT is working on it."),
    "resolved": gettext_lazy("The CERT has finished its work on it."),
    "closed": gettext_lazy("The case is closed."),
    "rejected": gettext_lazy(
        "The CERT will not act on it (for example, it is not a security incident)."
    ),
    "duplicate": gettext_lazy("It is handled together with another report of the same thing."),
}
