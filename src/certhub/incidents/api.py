"""API of incidents: report, list, read, triage, route and work on incidents, plus the
public report form for citizens (no account).

Incidents are addressed by their reference (``CERT-2026-000123``) and read through
the incident selectors: one the caller may not see answers 404 exactly like one that
does not exist. A TLP:RED incident the caller is not named on comes back redacted:
only reference, status, category, priority, TLP and sectors (``redacted: true``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from ninja import Field, File, Form, Path, Query, Router, Schema
from ninja import Status as Reply
from ninja.files import UploadedFile as NinjaUploadedFile

from certhub.accounts.selectors import client_address, current_user
from certhub.core.errors import Invalid
from certhub.core.pagination import DEFAULT_LIMIT, MAX_LIMIT
from certhub.incidents import selectors, services
from certhub.incidents.catalog import classification
from certhub.incidents.choices import (
    PRIORITY_COLOURS,
    DeadlineKind,
    LinkKind,
    NoteVisibility,
    ObservableKind,
    Priority,
    Status,
)
from certhub.incidents.conf import setting
from certhub.incidents.models import (
    Deadline,
    Incident,
    Note,
    Task,
    TimelineEntry,
)
from certhub.incidents.selectors import REFERENCE_PATTERN, Access, access_for
from certhub.tenancy.tlp import PAP, TLP

router = Router(tags=["incidents"])

SLUG = r"^[-a-zA-Z0-9_]+$"
OPTIONAL_SLUG = r"^[-a-zA-Z0-9_]*$"
NO_NUL = r"^[^\x00]*$"
SHA256_PATTERN = r"^[0-9a-fA-F]{64}$"
TRACKING_PATTERN = r"^[-A-Za-z0-9_]{20,100}$"


class ErrorOut(Schema):
    detail: str


# Every incident operation needs a signed-in caller; 404 covers "not yours to see".
READ_ERRORS = {401: ErrorOut, 404: ErrorOut, 422: ErrorOut}
WRITE_ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}


# --- Output ----------------------------------------------------------------------------


class ClassificationOut(Schema):
    category: str
    type: str
    category_name: str
    type_name: str
    machine_tag: str


class DeadlineOut(Schema):
    kind: str
    label: str
    due_at: dt.datetime
    met_at: dt.datetime | None
    paused: bool
    overdue: bool


class IncidentOut(Schema):
    reference: str
    status: str
    priority: int
    priority_label: str
    priority_colour: str
    category: str
    tlp: str
    sectors: list[str]
    redacted: bool = Field(
        description="True when the incident is TLP:RED and you are not a named recipient: "
        "only reference, status, category, priority, TLP and sectors are given."
    )
    title: str | None = None
    classification: ClassificationOut | None = None
    pap: str | None = None
    channel: str | None = None
    handling_team: str | None = None
    participants: list[str] = []
    reporting_org: str | None = None
    affected_orgs: list[str] = []
    assignee: str | None = None
    severity_score: int | None = None
    reporting_profile: str | None = None
    reported_at: dt.datetime | None = None
    first_seen_at: dt.datetime | None = None
    detected_at: dt.datetime | None = None
    merged_into: str | None = None
    deadlines: list[DeadlineOut] = []
    created_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None


class NoteOut(Schema):
    id: int
    author: str | None
    body: str
    visibility: str
    tlp: str
    created_at: dt.datetime


class TaskOut(Schema):
    id: int
    title: str
    description: str
    assignee: str | None
    due_at: dt.datetime | None
    done_at: dt.datetime | None
    created_at: dt.datetime


class ObservableOut(Schema):
    kind: str
    value: str
    tlp: str
    internal: bool
    comment: str


class AttachmentOut(Schema):
    sha256: str
    filename: str
    size: int
    content_type: str
    tlp: str
    created_at: dt.datetime


class LinkOut(Schema):
    kind: str
    reference: str
    direction: str


class TimelineOut(Schema):
    occurred_at: dt.datetime
    actor: str | None
    action: str
    summary: str
    changes: dict[str, Any]


class IncidentDetailOut(IncidentOut):
    description: str | None = None
    impact: str | None = None
    affected_systems: int | None = None
    affected_people: int | None = None
    data_breach: bool | None = None
    severity: dict[str, str] = {}
    notes: list[NoteOut] = []
    tasks: list[TaskOut] = []
    observables: list[ObservableOut] = []
    attachments: list[AttachmentOut] = []
    links: list[LinkOut] = []
    timeline: list[TimelineOut] = []


class IncidentPage(Schema):
    items: list[IncidentOut]
    next_cursor: str | None


def _sectors(incident: Incident) -> list[str]:
    sectors = {org.sector.slug for org in incident.affected_orgs.all()}
    if incident.reporting_org is not None:
        sectors.add(incident.reporting_org.sector.slug)
    return sorted(sectors)


def _deadline_out(deadline: Deadline, now: dt.datetime) -> dict[str, Any]:
    return {
        "kind": deadline.kind,
        "label": str(DeadlineKind(deadline.kind).label),
        "due_at": deadline.due_at,
        "met_at": deadline.met_at,
        "paused": deadline.paused_at is not None,
        "overdue": deadline.met_at is None and deadline.paused_at is None and deadline.due_at < now,
    }


def _incident_out(incident: Incident, access: Access) -> dict[str, Any]:
    """The list/summary form. Reads only prefetched relations (no query per row)."""
    out: dict[str, Any] = {
        "reference": incident.reference,
        "status": incident.status,
        "priority": incident.priority,
        "priority_label": str(Priority(incident.priority).label),
        "priority_colour": PRIORITY_COLOURS[incident.priority],
        "category": incident.category,
        "tlp": incident.tlp,
        "sectors": _sectors(incident),
        "redacted": not access.full_content,
    }
    if not access.full_content:
        return out
    found = classification(incident.category, incident.type)
    now = dt.datetime.now(dt.UTC)
    out |= {
        "title": incident.title,
        "classification": (
            {
                "category": found.category,
                "type": found.type,
                "category_name": found.category_name,
                "type_name": found.type_name,
                "machine_tag": found.machine_tag,
            }
            if found
            else None
        ),
        "pap": incident.pap,
        "channel": incident.channel,
        "handling_team": incident.handling_team.slug,
        # Which CERTs take part, and who works on it, is CERT-internal.
        "participants": sorted(p.team.slug for p in incident.participations.all())
        if access.is_staff
        else [],
        "assignee": incident.assignee.get_username()
        if incident.assignee and access.is_staff
        else None,
        "reporting_org": incident.reporting_org.slug if incident.reporting_org else None,
        "affected_orgs": sorted(org.slug for org in incident.affected_orgs.all()),
        "severity_score": incident.severity_score,
        "reporting_profile": incident.reporting_profile,
        "reported_at": incident.reported_at,
        "first_seen_at": incident.first_seen_at,
        "detected_at": incident.detected_at,
        "merged_into": incident.merged_into.reference if incident.merged_into else None,
        "deadlines": [_deadline_out(d, now) for d in incident.deadlines.all()],
        "created_at": incident.created_at,
        "updated_at": incident.updated_at,
    }
    return out


def _note_out(note: Note) -> dict[str, Any]:
    return {
        "id": note.pk,
        "author": note.author.get_username() if note.author else None,
        "body": note.body,
        "visibility": note.visibility,
        "tlp": note.tlp,
        "created_at": note.created_at,
    }


def _task_out(task: Task) -> dict[str, Any]:
    return {
        "id": task.pk,
        "title": task.title,
        "description": task.description,
        "assignee": task.assignee.get_username() if task.assignee else None,
        "due_at": task.due_at,
        "done_at": task.done_at,
        "created_at": task.created_at,
    }


def _links_out(user: Any, incident: Incident) -> list[dict[str, Any]]:
    return [
        {"kind": link.kind, "reference": link.reference, "direction": link.direction}
        for link in selectors.links_visible_in(user, incident)
    ]


def _timeline_out(entry: TimelineEntry) -> dict[str, Any]:
    return {
        "occurred_at": entry.occurred_at,
        "actor": entry.actor_name or None,
        "action": entry.action,
        "summary": entry.summary,
        "changes": entry.changes,
    }


def _detail_out(user: Any, incident: Incident) -> dict[str, Any]:
    access = access_for(user, incident)
    out = _incident_out(incident, access)
    if not access.full_content:
        return out
    return out | {
        "description": incident.description,
        "impact": incident.impact,
        "affected_systems": incident.affected_systems,
        "affected_people": incident.affected_people,
        "data_breach": incident.data_breach,
        "severity": incident.severity_answers if access.is_staff else {},
        "notes": [_note_out(n) for n in selectors.notes_for(user, incident, access)],
        "tasks": [_task_out(t) for t in selectors.tasks_for(incident, access)],
        "observables": selectors.observables_for(incident, access),
        "attachments": selectors.attachments_for(incident, access),
        "links": _links_out(user, incident) if access.is_staff else [],
        "timeline": [_timeline_out(e) for e in selectors.timeline_for(incident, access)],
    }


def _reload(user: Any, reference: str) -> dict[str, Any]:
    """The incident as the caller now sees it (after a change it may see less)."""
    incident = selectors.get_incident(user, reference)
    return _incident_out(incident, access_for(user, incident))


# --- Input -----------------------------------------------------------------------------


class IncidentIn(Schema):
    title: str = Field(..., min_length=1, max_length=300, pattern=NO_NUL)
    description: str = Field("", max_length=100_000)
    reporting_org: str | None = Field(
        None,
        pattern=SLUG,
        description="The organization you report for (slug). Organization members with one "
        "organization may leave it out; CERT staff may record an incident without one.",
    )
    handling_team: str | None = Field(
        None, pattern=SLUG, description="CERT staff only: the team that handles it (slug)."
    )
    affected_orgs: list[str] = Field(
        [], max_length=200, description="Affected organizations (slugs); default: yours."
    )
    category: str = Field("", max_length=60, pattern=OPTIONAL_SLUG)
    type: str = Field("", max_length=60, pattern=OPTIONAL_SLUG)
    tlp: TLP = TLP.AMBER
    pap: PAP = PAP.AMBER
    first_seen_at: dt.datetime | None = None
    detected_at: dt.datetime | None = None
    impact: str = Field("", max_length=100_000)
    affected_systems: int | None = Field(None, ge=0, le=2_000_000_000)
    affected_people: int | None = Field(None, ge=0, le=2_000_000_000)
    data_breach: bool = False
    observables: str = Field(
        "",
        max_length=200_000,
        description="Pasted indicators (IPs, networks, domains, URLs, e-mails, hashes, CVE, "
        "AS numbers), defanged forms like hxxp://evil[.]com understood.",
    )


class IncidentPatch(Schema):
    title: str | None = Field(None, min_length=1, max_length=300)
    description: str | None = Field(None, max_length=100_000)
    status: Status | None = None
    duplicate_of: str | None = Field(None, pattern=REFERENCE_PATTERN)
    category: str | None = Field(None, max_length=60, pattern=OPTIONAL_SLUG)
    type: str | None = Field(None, max_length=60, pattern=OPTIONAL_SLUG)
    tlp: TLP | None = None
    pap: PAP | None = None
    assignee: str | None = Field(
        None, max_length=150, pattern=NO_NUL, description="A username; empty to unassign."
    )
    severity: dict[str, str] | None = Field(
        None, description="NCISS-style answers, one per factor; {} to clear."
    )
    affected_orgs: list[str] | None = Field(None, max_length=200)
    first_seen_at: dt.datetime | None = None
    detected_at: dt.datetime | None = None
    impact: str | None = Field(None, max_length=100_000)
    affected_systems: int | None = Field(None, ge=0, le=2_000_000_000)
    affected_people: int | None = Field(None, ge=0, le=2_000_000_000)
    data_breach: bool | None = None


class EscalateIn(Schema):
    reason: str = Field(..., min_length=1, max_length=500, pattern=NO_NUL)
    to_team: str | None = Field(
        None, pattern=SLUG, description="A team above the handling team; default: its parent."
    )


class DelegateIn(Schema):
    to_team: str = Field(..., pattern=SLUG)
    reason: str = Field(..., min_length=1, max_length=500, pattern=NO_NUL)


class ParticipantIn(Schema):
    team: str = Field(..., pattern=SLUG)
    reason: str = Field("", max_length=500, pattern=NO_NUL)


class ParticipantsOut(Schema):
    handling_team: str
    participants: list[str]


class NoteIn(Schema):
    body: str = Field(..., min_length=1, max_length=100_000)
    visibility: NoteVisibility = NoteVisibility.INTERNAL
    tlp: TLP | None = None


class TaskIn(Schema):
    title: str = Field(..., min_length=1, max_length=300, pattern=NO_NUL)
    description: str = Field("", max_length=100_000)
    due_at: dt.datetime | None = None
    assignee: str | None = Field(None, max_length=150, pattern=NO_NUL)


class ObservableItemIn(Schema):
    kind: ObservableKind
    value: str = Field(..., min_length=1, max_length=2000)


class ObservablesIn(Schema):
    items: list[ObservableItemIn] = Field([], max_length=1000)
    text: str = Field("", max_length=200_000, description="Pasted text to extract from.")
    tlp: TLP | None = None
    internal: bool = False
    comment: str = Field("", max_length=500)


class LinkIn(Schema):
    kind: LinkKind
    reference: str = Field(..., pattern=REFERENCE_PATTERN)


class PublicReportIn(Schema):
    title: str = Field(..., min_length=1, max_length=200)
    description: str = Field(..., min_length=1, max_length=20_000)
    name: str = Field("", max_length=200)
    email: str = Field("", max_length=254)
    observables: str = Field("", max_length=20_000)
    website: str = Field(
        "", max_length=200, description="Leave empty (a field people never see: robots fill it)."
    )


class PublicReceiptOut(Schema):
    tracking_code: str = Field(description="Shown once: keep it to follow your report.")
    message: str


class PublicStatusOut(Schema):
    status: str
    status_label: str
    received_at: dt.datetime
    updated_at: dt.datetime


REF = Path(..., pattern=REFERENCE_PATTERN, description="e.g. CERT-2026-000123")


# --- Operations ------------------------------------------------------------------------


@router.post(
    "/incidents",
    response={201: IncidentOut, **WRITE_ERRORS},
    summary="Report an incident (organization members) or record one (CERT staff)",
)
def create_incident(request: HttpRequest, payload: IncidentIn) -> Reply[Any]:
    user = current_user(request)
    incident = services.report_incident(
        actor=user,
        title=payload.title,
        description=payload.description,
        reporting_org=payload.reporting_org,
        handling_team=payload.handling_team,
        affected_orgs=payload.affected_orgs,
        category=payload.category,
        type=payload.type,
        tlp=payload.tlp.value,
        pap=payload.pap.value,
        first_seen_at=payload.first_seen_at,
        detected_at=payload.detected_at,
        impact=payload.impact,
        affected_systems=payload.affected_systems,
        affected_people=payload.affected_people,
        data_breach=payload.data_breach,
        observables_text=payload.observables,
        ip_address=client_address(request),
    )
    return Reply(201, _reload(user, incident.reference))


@router.get(
    "/incidents",
    response={200: IncidentPage, 400: ErrorOut, 401: ErrorOut, 422: ErrorOut},
    summary="Incidents you may see, newest first",
)
def list_incidents(
    request: HttpRequest,
    status: Status | None = Query(None),  # noqa: B008 - ninja declares parameters so
    priority: int | None = Query(None, ge=0, le=5),
    category: str = Query("", max_length=60, pattern=OPTIONAL_SLUG),
    sector: str = Query("", max_length=100, pattern=OPTIONAL_SLUG),
    tlp: TLP | None = Query(None),  # noqa: B008
    assignee: str = Query("", max_length=150, pattern=NO_NUL),
    team: str = Query(
        "", max_length=100, pattern=OPTIONAL_SLUG, description="Handled by or participating."
    ),
    overdue: bool | None = Query(None, description="Only incidents with an overdue deadline."),
    q: str = Query(
        "",
        max_length=200,
        pattern=NO_NUL,
        description="Text in the reference, title, description or an observable value.",
    ),
    limit: int = Query(DEFAULT_LIMIT, description=f"Items per page, 1 to {MAX_LIMIT}."),
    cursor: str | None = Query(None, max_length=200),
) -> dict[str, Any]:
    user = current_user(request)
    incidents = selectors.incidents_matching(
        user,
        status=status.value if status else "",
        priority=priority,
        category=category,
        sector=sector,
        tlp=tlp.value if tlp else "",
        assignee=assignee,
        team=team,
        overdue=overdue,
        q=q,
    )
    page = selectors.page_newest_first(incidents, limit=limit, cursor=cursor)
    return {
        "items": [_incident_out(i, access_for(user, i)) for i in page.items],
        "next_cursor": page.next_cursor,
    }


@router.get(
    "/incidents/{reference}",
    response={200: IncidentDetailOut, **READ_ERRORS},
    summary="One incident with what you may see of its notes, tasks, observables, "
    "attachments, links and timeline",
)
def incident_detail(request: HttpRequest, reference: str = REF) -> dict[str, Any]:
    user = current_user(request)
    return _detail_out(user, selectors.get_incident(user, reference))


@router.patch(
    "/incidents/{reference}",
    response={200: IncidentOut, **WRITE_ERRORS},
    summary="Triage: change status, classification, severity, assignee, TLP and details",
    description="Analysts and coordinators of the handling team. Status moves along the "
    "workflow only (new, triaged, in_progress, resolved, closed; rejected; duplicate with "
    "duplicate_of). Automatic escalation rules apply after the change.",
)
def update_incident(
    request: HttpRequest, payload: IncidentPatch, reference: str = REF
) -> dict[str, Any]:
    user = current_user(request)
    changes = payload.dict(exclude_unset=True)
    for name in ("status", "tlp", "pap"):
        if changes.get(name) is not None:
            changes[name] = getattr(payload, name).value
    for name in ("title", "status", "tlp", "pap", "data_breach"):
        if name in changes and changes[name] is None:
            raise Invalid(_("%(field)s cannot be empty.") % {"field": name})
    services.update_incident(
        actor=user, incident=selectors.get_incident(user, reference), changes=changes
    )
    return _reload(user, reference)


@router.post(
    "/incidents/{reference}/escalate",
    response={200: IncidentOut, **WRITE_ERRORS},
    summary="Escalate to the parent team (or a named team above), with a reason",
)
def escalate(request: HttpRequest, payload: EscalateIn, reference: str = REF) -> dict[str, Any]:
    user = current_user(request)
    services.escalate_incident(
        actor=user,
        incident=selectors.get_incident(user, reference),
        reason=payload.reason,
        to_team=payload.to_team,
    )
    return _reload(user, reference)


@router.post(
    "/incidents/{reference}/delegate",
    response={200: IncidentOut, **WRITE_ERRORS},
    summary="Delegate to a team below the handling team (coordinators)",
)
def delegate(request: HttpRequest, payload: DelegateIn, reference: str = REF) -> dict[str, Any]:
    user = current_user(request)
    services.delegate_incident(
        actor=user,
        incident=selectors.get_incident(user, reference),
        to_team=payload.to_team,
        reason=payload.reason,
    )
    return _reload(user, reference)


def _participants(user: Any, reference: str) -> dict[str, Any]:
    incident = selectors.get_incident(user, reference)
    return {
        "handling_team": incident.handling_team.slug,
        "participants": sorted(p.team.slug for p in incident.participations.all()),
    }


@router.post(
    "/incidents/{reference}/participants",
    response={201: ParticipantsOut, 409: ErrorOut, **WRITE_ERRORS},
    summary="Add a participant team (coordinators)",
)
def add_participant(
    request: HttpRequest, payload: ParticipantIn, reference: str = REF
) -> Reply[Any]:
    user = current_user(request)
    services.add_participant(
        actor=user,
        incident=selectors.get_incident(user, reference),
        team=payload.team,
        reason=payload.reason,
    )
    return Reply(201, _participants(user, reference))


@router.delete(
    "/incidents/{reference}/participants/{team}",
    response={200: ParticipantsOut, **WRITE_ERRORS},
    summary="Remove a participant team (coordinators)",
)
def remove_participant(
    request: HttpRequest, reference: str = REF, team: str = Path(..., pattern=SLUG)
) -> dict[str, Any]:
    user = current_user(request)
    services.remove_participant(
        actor=user, incident=selectors.get_incident(user, reference), team=team
    )
    return _participants(user, reference)


@router.post(
    "/incidents/{reference}/notes",
    response={201: NoteOut, **WRITE_ERRORS},
    summary="Add a note: internal (CERT staff) or shared with the reporter",
)
def add_note(request: HttpRequest, payload: NoteIn, reference: str = REF) -> Reply[Any]:
    user = current_user(request)
    note = services.add_note(
        actor=user,
        incident=selectors.get_incident(user, reference),
        body=payload.body,
        visibility=payload.visibility.value,
        tlp=payload.tlp.value if payload.tlp else None,
    )
    return Reply(201, _note_out(note))


@router.post(
    "/incidents/{reference}/tasks",
    response={201: TaskOut, **WRITE_ERRORS},
    summary="Add a task with a due date and an assignee (CERT staff)",
)
def add_task(request: HttpRequest, payload: TaskIn, reference: str = REF) -> Reply[Any]:
    user = current_user(request)
    task = services.add_task(
        actor=user,
        incident=selectors.get_incident(user, reference),
        title=payload.title,
        description=payload.description,
        due_at=payload.due_at,
        assignee=payload.assignee,
    )
    return Reply(201, _task_out(task))


@router.post(
    "/incidents/{reference}/observables",
    response={201: list[ObservableOut], **WRITE_ERRORS},
    summary="Add observables: typed values and/or pasted text (defanged forms understood)",
)
def add_observables(
    request: HttpRequest, payload: ObservablesIn, reference: str = REF
) -> Reply[Any]:
    user = current_user(request)
    added = services.add_observables(
        actor=user,
        incident=selectors.get_incident(user, reference),
        items=[(item.kind.value, item.value) for item in payload.items],
        text=payload.text,
        tlp=payload.tlp.value if payload.tlp else None,
        internal=payload.internal,
        comment=payload.comment,
    )
    return Reply(201, added)


@router.post(
    "/incidents/{reference}/attachments",
    response={201: AttachmentOut, 409: ErrorOut, 413: ErrorOut, **WRITE_ERRORS},
    summary="Attach a file (multipart); stored by SHA-256 with a chain-of-custody entry",
)
def add_attachment(
    request: HttpRequest,
    reference: str = REF,
    file: NinjaUploadedFile = File(...),  # noqa: B008 - ninja's way of declaring a file
    tlp: TLP | None = Form(None),  # noqa: B008
) -> Reply[Any]:
    user = current_user(request)
    incident = selectors.get_incident(user, reference)
    limit = setting("CERTHUB_ATTACHMENT_MAX_BYTES")
    if file.size is not None and file.size > limit:
        # Refused before reading it into memory.
        raise Invalid(
            _("The file is too large (%(size)d bytes; at most %(limit)d).")
            % {"size": file.size, "limit": limit},
            status=413,
        )
    attachment = services.add_attachment(
        actor=user,
        incident=incident,
        upload=services.UploadedFile(filename=file.name or "", content=file.read()),
        tlp=tlp.value if tlp else None,
        ip_address=client_address(request),
    )
    return Reply(201, attachment)


@router.get(
    "/incidents/{reference}/attachments/{sha256}",
    response={200: None, **READ_ERRORS, 409: ErrorOut},
    summary="Download an attachment (recorded in its chain of custody)",
)
def download_attachment(
    request: HttpRequest, reference: str = REF, sha256: str = Path(..., pattern=SHA256_PATTERN)
) -> HttpResponse:
    user = current_user(request)
    incident = selectors.get_incident(user, reference)
    access = access_for(user, incident)
    attachment = selectors.get_attachment(user, incident, access, sha256)
    content = services.download_attachment(
        actor=user, attachment=attachment, ip_address=client_address(request)
    )
    response = HttpResponse(content, content_type=attachment.content_type)
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=attachment.filename
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["X-Certhub-TLP"] = attachment.tlp
    return response


@router.post(
    "/incidents/{reference}/links",
    response={201: LinkOut, 409: ErrorOut, **WRITE_ERRORS},
    summary="Link to another incident: related, parent campaign, or duplicate (merge)",
)
def link_incident(request: HttpRequest, payload: LinkIn, reference: str = REF) -> Reply[Any]:
    user = current_user(request)
    link = services.link_incidents(
        actor=user,
        incident=selectors.get_incident(user, reference),
        other=payload.reference,
        kind=payload.kind.value,
    )
    return Reply(201, {"kind": link.kind, "reference": link.target.reference, "direction": "to"})


@router.post(
    "/incidents/{reference}/deadlines/{kind}/met",
    response={200: DeadlineOut, 409: ErrorOut, **WRITE_ERRORS},
    summary="Record that a reporting obligation (notification, final report) was met",
)
def meet_deadline(request: HttpRequest, kind: DeadlineKind, reference: str = REF) -> dict[str, Any]:
    user = current_user(request)
    deadline = services.meet_deadline(
        actor=user, incident=selectors.get_incident(user, reference), kind=kind.value
    )
    return _deadline_out(deadline, dt.datetime.now(dt.UTC))


# --- Public reports (no account) -------------------------------------------------------


@router.post(
    "/public/reports",
    auth=None,
    response={201: PublicReceiptOut, 400: ErrorOut, 422: ErrorOut, 429: ErrorOut},
    summary="Report an incident without an account; answers a tracking code, shown once",
    description="Rate limited per client address (429 when exceeded).",
)
def public_report(request: HttpRequest, payload: PublicReportIn) -> Reply[Any]:
    receipt = services.submit_public_report(
        title=payload.title,
        description=payload.description,
        reporter_name=payload.name,
        reporter_email=payload.email,
        observables_text=payload.observables,
        honeypot=payload.website,
        ip_address=client_address(request),
    )
    return Reply(
        201,
        {
            "tracking_code": receipt.tracking_code,
            "message": _(
                "Thank you: your report was received. Keep this tracking code to follow its "
                "status; it is shown only once."
            ),
        },
    )


@router.get(
    "/public/reports/{tracking_code}",
    auth=None,
    response={200: PublicStatusOut, 404: ErrorOut, 422: ErrorOut},
    summary="The status of a public report, by its tracking code",
)
def public_report_status(
    request: HttpRequest, tracking_code: str = Path(..., pattern=TRACKING_PATTERN)
) -> dict[str, Any]:
    incident = selectors.public_report_status(tracking_code)
    return {
        "status": incident.status,
        "status_label": str(Status(incident.status).label),
        "received_at": incident.reported_at,
        "updated_at": incident.updated_at,
    }
