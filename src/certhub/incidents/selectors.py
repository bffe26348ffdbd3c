"""Every read of incidents, scoped by the visibility rules (DESIGN.md section 3).

- A team member sees the incidents handled by its team or a team below it, and those
  on which its team participates.
- An organization member sees the incidents its organization reported or is affected
  by, without tasks, internal notes, internal observables, internal timeline entries.
- TLP:RED content is shown only to the recipients named on the incident (users, or the
  teams named as they took it over); anyone else who sees the incident gets only its
  reference, status, category, priority and sector (``Access.full_content``).
- A platform administrator sees every incident (still without TLP:RED content not
  addressed to it); a Council member never sees one; anyone else gets 404.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Any

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from certhub.core.errors import Invalid, NotFound
from certhub.core.pagination import Page, decode_cursor, encode_cursor
from certhub.incidents.choices import NoteVisibility
from certhub.incidents.models import (
    Attachment,
    CustodyEntry,
    Deadline,
    Incident,
    IncidentLink,
    Note,
    Observable,
    Participation,
    PublicSubmission,
    Recipient,
    SavedView,
    Task,
    TimelineEntry,
)
from certhub.tenancy.choices import TeamRole
from certhub.tenancy.models import Membership, Team
from certhub.tenancy.selectors import teams_visible_to
from certhub.tenancy.tlp import TLP, Audience, tlp_allows
from certhub.tenancy.visibility import TEAM_COORDINATE_ROLES, TEAM_WRITE_ROLES, Scope, scope_for

REFERENCE_PATTERN = r"^[A-Za-z0-9]{1,20}-\d{4}-\d{6,}$"


def _visibility_q(user: Any) -> Q | None:
    """The filter selecting the incidents ``user`` may see; None means all of them."""
    scope = scope_for(user)
    if scope.is_admin:
        return None
    condition = Q(pk__in=[])
    if not scope.is_authenticated or scope.is_council:
        return condition
    if scope.teams:
        condition |= scope.subtree_q("handling_team")
        condition |= Q(
            Exists(
                Participation.objects.filter(
                    incident_id=OuterRef("pk"), team_id__in=sorted(scope.team_ids)
                )
            )
        )
    if scope.org_ids:
        org_ids = sorted(scope.org_ids)
        condition |= Q(reporting_org_id__in=org_ids)
        condition |= Q(
            Exists(
                Incident.affected_orgs.through.objects.filter(
                    incident_id=OuterRef("pk"), organization_id__in=org_ids
                )
            )
        )
    return condition


def incidents_visible_to(user: Any) -> QuerySet[Incident]:
    incidents = Incident.objects.select_related(
        "handling_team", "reporting_org", "reporting_org__sector", "assignee", "merged_into"
    )
    condition = _visibility_q(user)
    return incidents if condition is None else incidents.filter(condition)


def with_details(incidents: QuerySet[Incident]) -> QuerySet[Incident]:
    """Prefetch what the list and detail answers read, so a page costs a fixed number
    of queries whatever its length."""
    return incidents.prefetch_related(
        Prefetch("participations", queryset=Participation.objects.select_related("team")),
        Prefetch("recipients", queryset=Recipient.objects.all()),
        Prefetch("deadlines", queryset=Deadline.objects.order_by("due_at", "id")),
        "affected_orgs",
        "affected_orgs__sector",
    )


def get_incident(user: Any, reference: str) -> Incident:
    incident = (
        with_details(incidents_visible_to(user)).filter(reference=str(reference).upper()).first()
    )
    if incident is None:
        raise NotFound(_("No such incident."))
    return incident


# --- What a user may do with one incident ----------------------------------------------


@dataclass(frozen=True)
class Access:
    """One user's standing on one visible incident."""

    is_admin: bool
    handling_role: str | None  # role in the handling team or a team above it
    participant_role: str | None  # role in a participating team
    org_role: str | None  # role in the reporting or an affected organization
    named: bool  # a named recipient of TLP:RED content
    tlp: str

    @property
    def is_staff(self) -> bool:
        """Sees the CERT-internal side (tasks, internal notes and observables)."""
        return self.is_admin or bool(self.handling_role or self.participant_role)

    @property
    def full_content(self) -> bool:
        return self.tlp != TLP.RED or self.named

    @property
    def audience(self) -> Audience:
        return Audience.NAMED if self.named else Audience.ORGANIZATION

    @property
    def can_handle(self) -> bool:
        """Triage, assess, assign, change status, escalate: analysts and coordinators
        of the handling team or a team above it."""
        return self.handling_role in TEAM_WRITE_ROLES

    @property
    def can_coordinate(self) -> bool:
        """Delegate, add or remove participants: coordinators over the handling team."""
        return self.handling_role in TEAM_COORDINATE_ROLES

    @property
    def can_contribute(self) -> bool:
        """Notes, tasks, observables, attachments: analysts and coordinators of the
        handling side or of a participating team."""
        return self.can_handle or self.participant_role in TEAM_WRITE_ROLES

    @property
    def can_reply(self) -> bool:
        """Shared notes and attachments from the reporting or an affected organization."""
        return self.org_role is not None


def _strongest(roles: set[str]) -> str | None:
    for role in (TeamRole.COORDINATOR, TeamRole.ANALYST, TeamRole.VIEWER):
        if role in roles:
            return role
    return None


def is_named_recipient(scope: Scope, incident: Incident) -> bool:
    """Whether the scope's user, or one of its teams, is named on the incident (through
    the recipients' prefetch cache when there is one)."""
    return any(
        (r.user_id is not None and r.user_id == scope.user_id)
        or (r.team_id is not None and r.team_id in scope.team_ids)
        for r in incident.recipients.all()
    )


def access_for(user: Any, incident: Incident) -> Access:
    """Reads participations, recipients and affected organizations through the
    incident's prefetch cache when there is one (no query per incident in a list)."""
    scope = scope_for(user)
    participant_team_ids = {p.team_id for p in incident.participations.all()}
    participant_role = _strongest(
        {seat.role for seat in scope.teams if seat.team_id in participant_team_ids}
    )
    handling_role = scope.role_in_team_over(incident.handling_team.path)
    org_ids = {org.pk for org in incident.affected_orgs.all()}
    if incident.reporting_org_id:
        org_ids.add(incident.reporting_org_id)
    org_role = next((scope.org_roles[o] for o in org_ids if o in scope.org_roles), None)
    named = is_named_recipient(scope, incident)
    return Access(
        is_admin=scope.is_admin,
        handling_role=handling_role,
        participant_role=participant_role,
        org_role=org_role,
        named=named,
        tlp=incident.tlp,
    )


# --- Lists -----------------------------------------------------------------------------


def incidents_matching(
    user: Any,
    *,
    status: str = "",
    priority: int | None = None,
    category: str = "",
    sector: str = "",
    tlp: str = "",
    assignee: str = "",
    team: str = "",
    overdue: bool | None = None,
    q: str = "",
) -> QuerySet[Incident]:
    """The visible incidents narrowed by the list filters. Filters only narrow; the
    free text searches reference, title, description and observable values, but never
    in TLP:RED incidents the user is not named on (so a search cannot reveal them)."""
    incidents = incidents_visible_to(user)
    if status:
        incidents = incidents.filter(status=status)
    if priority is not None:
        incidents = incidents.filter(priority=priority)
    if category:
        incidents = incidents.filter(category=category)
    if tlp:
        incidents = incidents.filter(tlp=tlp)
    if sector:
        incidents = incidents.filter(
            Q(reporting_org__sector__slug=sector)
            | Q(
                Exists(
                    Incident.affected_orgs.through.objects.filter(
                        incident_id=OuterRef("pk"), organization__sector__slug=sector
                    )
                )
            )
        )
    if assignee:
        incidents = incidents.filter(assignee__username=assignee)
    if team:
        incidents = incidents.filter(
            Q(handling_team__slug=team)
            | Q(Exists(Participation.objects.filter(incident_id=OuterRef("pk"), team__slug=team)))
        )
    if overdue is not None:
        late = Exists(overdue_deadlines().filter(incident_id=OuterRef("pk")))
        incidents = incidents.filter(late if overdue else ~late)
    text = q.strip()
    if text:
        # Each side is found on its own (through the trigram indexes on PostgreSQL) and
        # the incidents are then picked by id: an OR across columns and tables would make
        # the database scan every visible incident instead.
        by_text = Incident.objects.filter(
            Q(reference__icontains=text) | Q(title__icontains=text) | Q(description__icontains=text)
        ).values("pk")
        by_observable = (
            observables_visible_in(user).filter(value__icontains=text).values("incident_id")
        )
        incidents = incidents.filter(_named_or_not_red(user)).filter(
            Q(pk__in=by_text) | Q(pk__in=by_observable)
        )
    return incidents


def _named_or_not_red(user: Any) -> Q:
    scope = scope_for(user)
    named = Recipient.objects.filter(incident_id=OuterRef("pk")).filter(
        Q(user_id=scope.user_id) | Q(team_id__in=sorted(scope.team_ids))
    )
    return ~Q(tlp=TLP.RED) | Q(Exists(named))


def with_full_content(user: Any, incidents: QuerySet[Incident]) -> QuerySet[Incident]:
    """Of ``incidents``, those whose content (title, description) ``user`` may read:
    not TLP:RED, or RED with the user or one of its teams named (DESIGN.md section 3,
    rule 3). The others show only reference, status, category, severity and sector."""
    return incidents.filter(_named_or_not_red(user))


def observables_visible_in(user: Any) -> QuerySet[Observable]:
    """Observables a user may search: staff see internal ones, organizations do not."""
    scope = scope_for(user)
    observables = Observable.objects.all()
    if scope.is_admin or scope.teams:
        return observables
    return observables.filter(internal=False)


def page_newest_first(
    incidents: QuerySet[Incident], *, limit: int | None, cursor: str | None
) -> Page:
    """Cursor pagination, newest first (by id, which follows the reference order)."""
    from certhub.core.pagination import DEFAULT_LIMIT, MAX_LIMIT

    limit = DEFAULT_LIMIT if limit is None else limit
    if not 1 <= limit <= MAX_LIMIT:
        raise Invalid(_("limit must be between 1 and %(max)d.") % {"max": MAX_LIMIT})
    incidents = incidents.order_by("-id")
    if cursor:
        last_id = decode_cursor(cursor)
        if not isinstance(last_id, int) or isinstance(last_id, bool) or not 0 < last_id < 2**63:
            raise Invalid(_("The cursor is not valid; start again from the first page."))
        incidents = incidents.filter(id__lt=last_id)
    rows = list(with_details(incidents)[: limit + 1])
    if len(rows) > limit:
        rows = rows[:limit]
        return Page(rows, encode_cursor(rows[-1].pk))
    return Page(rows, None)


# --- What hangs off one incident -------------------------------------------------------


def notes_for(user: Any, incident: Incident, access: Access) -> list[Note]:
    """Notes the user may read: none without full content; organization members only
    shared ones; every note within its own TLP (a TLP:RED note to named recipients and
    its author)."""
    if not access.full_content:
        return []
    notes = incident.notes.select_related("author")
    if not access.is_staff:
        notes = notes.filter(visibility=NoteVisibility.SHARED)
    return [n for n in notes if n.author_id == user.pk or tlp_allows(n.tlp, access.audience)]


def tasks_for(incident: Incident, access: Access) -> list[Task]:
    if not (access.full_content and access.is_staff):
        return []
    return list(incident.tasks.select_related("assignee"))


def observables_for(incident: Incident, access: Access) -> list[Observable]:
    if not access.full_content:
        return []
    # Filtered here, not in SQL, so that a prefetched list serves every incident.
    return [
        o
        for o in incident.observables.all()
        if (access.is_staff or not o.internal) and tlp_allows(o.tlp, access.audience)
    ]


def attachments_for(incident: Incident, access: Access) -> list[Attachment]:
    if not access.full_content:
        return []
    return [a for a in incident.attachments.all() if tlp_allows(a.tlp, access.audience)]


def get_attachment(user: Any, incident: Incident, access: Access, sha256: str) -> Attachment:
    for attachment in attachments_for(incident, access):
        if attachment.sha256 == sha256.lower():
            return attachment
    raise NotFound(_("No such attachment."))


@dataclass(frozen=True)
class LinkView:
    kind: str
    reference: str
    direction: str  # "to" the other incident, or "from" it


def links_visible_in(user: Any, incident: Incident) -> list[LinkView]:
    """The incident's links to and from incidents the user may also see; links to the
    others are left out (never revealing that they exist)."""
    visible = incidents_visible_to(user).values("pk")
    outgoing = IncidentLink.objects.filter(source=incident, target__in=visible).select_related(
        "target"
    )
    incoming = IncidentLink.objects.filter(target=incident, source__in=visible).select_related(
        "source"
    )
    return [LinkView(link.kind, link.target.reference, "to") for link in outgoing] + [
        LinkView(link.kind, link.source.reference, "from") for link in incoming
    ]


def timeline_for(incident: Incident, access: Access) -> list[TimelineEntry]:
    if not access.full_content:
        return []
    entries = incident.timeline.all()
    if not access.is_staff:
        entries = entries.filter(internal=False)
    return list(entries)


# --- Deadlines -------------------------------------------------------------------------


def overdue_deadlines(now: dt.datetime | None = None) -> QuerySet[Deadline]:
    """Deadlines past due, not met and not paused (unscoped: callers scope them)."""
    return Deadline.objects.filter(
        met_at__isnull=True, paused_at__isnull=True, due_at__lt=now or timezone.now()
    )


def overdue_count(user: Any, now: dt.datetime | None = None) -> int:
    """How many deadlines of incidents the user may see are overdue."""
    return (
        overdue_deadlines(now).filter(incident__in=incidents_visible_to(user).values("pk")).count()
    )


def breaches_to_notify(now: dt.datetime | None = None) -> QuerySet[Deadline]:
    return overdue_deadlines(now).filter(breach_notified_at__isnull=True)


# --- Public reports --------------------------------------------------------------------


def hash_tracking_code(code: str) -> str:
    # The code carries 160 random bits: a plain SHA-256 cannot be reversed by guessing.
    return hashlib.sha256(code.strip().encode()).hexdigest()


def public_report_status(tracking_code: str) -> Incident:
    """The incident behind a tracking code, for its public status (no visibility rule:
    knowing the code is the right to its status, DESIGN.md section 3 rule 5)."""
    code = (tracking_code or "").strip()
    incident = None
    if 20 <= len(code) <= 100 and code.isascii():
        incident = Incident.objects.filter(tracking_code_hash=hash_tracking_code(code)).first()
    if incident is None:
        raise NotFound(_("No report has this tracking code."))
    return incident


def public_submissions_since(ip_address: str | None, since: dt.datetime) -> int:
    return PublicSubmission.objects.filter(ip_address=ip_address, submitted_at__gte=since).count()


# --- The work UI: choices offered on an incident and in the queue -----------------------


def is_overdue(incident: Incident, now: dt.datetime | None = None) -> bool:
    """Whether a deadline of the incident is past due, not met and not paused (reads the
    prefetched deadlines of ``with_details``)."""
    now = now or timezone.now()
    return any(
        d.met_at is None and d.paused_at is None and d.due_at < now
        for d in incident.deadlines.all()
    )


def get_task(incident: Incident, access: Access, task_id: int) -> Task:
    for task in tasks_for(incident, access):
        if task.pk == task_id:
            return task
    raise NotFound(_("This incident has no such task."))


def custody_for(attachments: list[Attachment]) -> dict[int, list[CustodyEntry]]:
    """Attachment id -> its chain of custody, oldest first (attachments the caller may see,
    from ``attachments_for``)."""
    chains: dict[int, list[CustodyEntry]] = {a.pk: [] for a in attachments}
    for entry in CustodyEntry.objects.filter(attachment_id__in=list(chains)).order_by("id"):
        chains[entry.attachment_id].append(entry)
    return chains


def staff_of(incident: Incident) -> list[Any]:
    """Users who may be assigned the incident or its tasks: active analysts and
    coordinators of the handling team and of the participating teams."""
    team_ids = {incident.handling_team_id, *(p.team_id for p in incident.participations.all())}
    memberships = (
        Membership.objects.filter(
            team_id__in=sorted(team_ids), role__in=TEAM_WRITE_ROLES, user__is_active=True
        )
        .select_related("user")
        .order_by("user__username")
    )
    return list({m.user_id: m.user for m in memberships}.values())


def colleagues_of(user: Any) -> list[Any]:
    """Active analysts and coordinators of the user's own teams: whom a queue is filtered
    by and bulk-assigned to."""
    scope = scope_for(user)
    if not scope.team_ids:
        return []
    memberships = (
        Membership.objects.filter(
            team_id__in=sorted(scope.team_ids), role__in=TEAM_WRITE_ROLES, user__is_active=True
        )
        .select_related("user")
        .order_by("user__username")
    )
    return list({m.user_id: m.user for m in memberships}.values())


def escalation_targets(incident: Incident) -> list[Team]:
    """The teams above the handling team, nearest first (where an escalation may go)."""
    ancestors = Team.objects.filter(pk__in=incident.handling_team.ancestor_ids)
    return sorted(ancestors, key=lambda team: -team.depth)


def delegation_targets(user: Any, incident: Incident) -> list[Team]:
    """Teams below the handling team the user may see (where a delegation may go)."""
    handling = incident.handling_team
    return list(
        teams_visible_to(user)
        .filter(path__startswith=handling.path)
        .exclude(pk=handling.pk)
        .order_by("path")
    )


def participant_candidates(user: Any, incident: Incident) -> list[Team]:
    """Teams the user may see that neither handle nor already take part in the incident."""
    taken = {incident.handling_team_id, *(p.team_id for p in incident.participations.all())}
    return [t for t in teams_visible_to(user).order_by("path") if t.pk not in taken]


def saved_views_for(user: Any) -> list[SavedView]:
    if not getattr(user, "pk", None):
        return []
    return list(SavedView.objects.filter(user_id=user.pk))
