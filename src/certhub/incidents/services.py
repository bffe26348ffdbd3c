"""Every write to incidents. Keyword-only, one transaction each; each writes the
incident's timeline entry and the audit entry inside that transaction, and queues its
notifications there (sent after commit).

Who may do what (checked here, on top of the visibility the selectors apply):
- report: organization members for their organization; CERT analysts and
  coordinators for organizations they cover (or without one, for their own team);
- triage, assess, assign, change status, link, escalate: analysts and coordinators of
  the handling team or a team above it;
- delegate, add or remove participants: coordinators over the handling team;
- notes, tasks, observables, attachments: analysts and coordinators of the handling
  side or of a participating team; the reporting or affected organization adds shared
  notes, observables and attachments;
- viewers read only.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import secrets
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import puremagic
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from certhub.audit import services as audit
from certhub.core.errors import Conflict, Forbidden, Invalid, NotFound, Throttled
from certhub.incidents import deadlines as deadline_rules
from certhub.incidents import notifications as notify
from certhub.incidents import routing, severity, signals
from certhub.incidents.catalog import classification
from certhub.incidents.choices import (
    REPORTING_DEADLINES,
    TRANSITIONS,
    Channel,
    CustodyAction,
    DeadlineKind,
    LinkKind,
    NoteVisibility,
    Status,
)
from certhub.incidents.conf import setting
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
    ReferenceCounter,
    SavedView,
    Task,
    TimelineEntry,
)
from certhub.incidents.observables import Indicator, extract, normalise
from certhub.incidents.selectors import (
    access_for,
    breaches_to_notify,
    get_incident,
    hash_tracking_code,
    incidents_visible_to,
    public_submissions_since,
)
from certhub.tenancy.models import Membership, Organization, Team
from certhub.tenancy.selectors import organizations_visible_to, teams_visible_to
from certhub.tenancy.tlp import PAP, TLP
from certhub.tenancy.visibility import TEAM_WRITE_ROLES, scope_for

MAX_TITLE = 300
MAX_TEXT = 100_000


# --- Small shared pieces ---------------------------------------------------------------


def _log(
    incident: Incident,
    actor: Any,
    action: str,
    *,
    changes: Mapping[str, Any] | None = None,
    summary: str = "",
    internal: bool = False,
    obj: Any = None,
) -> None:
    """The timeline entry and the audit entry of one change, side by side."""
    user = actor if getattr(actor, "pk", None) else None
    TimelineEntry.objects.create(
        incident=incident,
        actor=user,
        actor_name=user.get_username() if user else "",
        action=action,
        summary=summary[:500],
        changes=audit._jsonable(dict(changes or {})),
        internal=internal,
    )
    audit.record(
        actor=actor,
        action=f"incident.{action}",
        obj=obj if obj is not None else incident,
        object_repr=incident.reference if obj is None else "",
        changes=dict(changes or {}),
    )


def _locked(incident: Incident) -> Incident:
    """The incident row locked for this transaction (concurrent changes queue up)."""
    return Incident.objects.select_for_update().select_related("handling_team").get(pk=incident.pk)


def _text(value: str, name: str, *, required: bool = False, limit: int = MAX_TEXT) -> str:
    text = (value or "").strip()
    if "\x00" in text:
        raise Invalid(_("%(field)s contains a NUL character.") % {"field": name})
    if required and not text:
        raise Invalid(_("%(field)s is required.") % {"field": name})
    if len(text) > limit:
        raise Invalid(
            _("%(field)s is too long (at most %(n)d characters).") % {"field": name, "n": limit}
        )
    return text


def _tlp(value: str) -> str:
    if value not in TLP.values:
        raise Invalid(
            _("Unknown TLP label %(v)s; use one of %(all)s.")
            % {"v": value, "all": ", ".join(TLP.values)}
        )
    return value


def _pap(value: str) -> str:
    if value not in PAP.values:
        raise Invalid(
            _("Unknown PAP label %(v)s; use one of %(all)s.")
            % {"v": value, "all": ", ".join(PAP.values)}
        )
    return value


def _classify(category: str, type_: str) -> tuple[str, str]:
    if not category and not type_:
        return "", ""
    if classification(category, type_) is None:
        raise Invalid(
            _("%(c)s / %(t)s is not an RSIT category and type.") % {"c": category, "t": type_}
        )
    return category, type_


def _orgs(actor: Any, slugs: Iterable[str]) -> list[Organization]:
    wanted = sorted({s for s in slugs if s})
    found = list(organizations_visible_to(actor).filter(slug__in=wanted))
    missing = sorted(set(wanted) - {o.slug for o in found})
    if missing:
        raise NotFound(_("No such organization: %(slugs)s.") % {"slugs": ", ".join(missing)})
    return found


def _involved_orgs(incident: Incident) -> list[Organization]:
    orgs = {o.pk: o for o in incident.affected_orgs.select_related("sector", "responsible_team")}
    if incident.reporting_org_id and incident.reporting_org_id not in orgs:
        org = Organization.objects.select_related("sector", "responsible_team").get(
            pk=incident.reporting_org_id
        )
        orgs[org.pk] = org
    return list(orgs.values())


def _forbidden() -> Forbidden:
    return Forbidden(_("Your role does not allow this on this incident."))


def _require(allowed: bool) -> None:
    if not allowed:
        raise _forbidden()


def next_reference(now: dt.datetime) -> str:
    """The next ``{PREFIX}-{YEAR}-{NNNNNN}``. The counter row is locked until the
    caller's transaction ends (PostgreSQL row lock; SQLite's IMMEDIATE transactions
    serialise writers), so two reports never get the same number."""
    prefix = settings.CERTHUB_REFERENCE_PREFIX.upper()
    year = now.year
    counter = ReferenceCounter.objects.select_for_update().filter(prefix=prefix, year=year).first()
    if counter is None:
        try:
            with transaction.atomic():
                ReferenceCounter.objects.create(prefix=prefix, year=year, last_number=0)
        except IntegrityError:
            pass  # a concurrent report created it first; lock that row below
        counter = ReferenceCounter.objects.select_for_update().get(prefix=prefix, year=year)
    counter.last_number += 1
    counter.save(update_fields=["last_number"])
    return f"{prefix}-{year}-{counter.last_number:06d}"


def _name_recipient(incident: Incident, *, user: Any = None, team: Team | None = None) -> None:
    if user is not None and getattr(user, "pk", None):
        Recipient.objects.get_or_create(incident=incident, user=user)
    if team is not None:
        Recipient.objects.get_or_create(incident=incident, team=team)


def _add_observables(
    incident: Incident,
    actor: Any,
    indicators: Iterable[Indicator],
    *,
    tlp: str,
    internal: bool,
    comment: str = "",
) -> list[Observable]:
    existing = set(incident.observables.values_list("kind", "value"))
    new: list[Observable] = []
    for indicator in indicators:
        if (indicator.kind, indicator.value) in existing:
            continue
        existing.add((indicator.kind, indicator.value))
        new.append(
            Observable(
                incident=incident,
                kind=indicator.kind,
                value=indicator.value,
                tlp=tlp,
                internal=internal,
                comment=comment,
                added_by=actor if getattr(actor, "pk", None) else None,
            )
        )
    added = Observable.objects.bulk_create(new)
    if added:
        ids = [o.pk for o in added]
        # Robust: the observables are committed; a failing listener above (the
        # correlation index) is logged, never turned into an error for the reporter.
        transaction.on_commit(
            lambda: signals.observables_added.send(
                sender=Observable, incident_id=incident.pk, observable_ids=ids
            ),
            robust=True,
        )
    return added


def _severity_for(incident: Incident, orgs: list[Organization]) -> severity.Severity:
    grades = [org.cii_grade for org in orgs if org.is_cii]
    return severity.assess(incident.severity_answers or None, grades)


# --- Reporting -------------------------------------------------------------------------


@dataclass(frozen=True)
class UploadedFile:
    filename: str
    content: bytes


@transaction.atomic
def report_incident(
    *,
    actor: Any,
    title: str,
    description: str = "",
    reporting_org: str | None = None,
    handling_team: str | None = None,
    affected_orgs: Sequence[str] = (),
    category: str = "",
    type: str = "",
    tlp: str = TLP.AMBER,
    pap: str = PAP.AMBER,
    first_seen_at: dt.datetime | None = None,
    detected_at: dt.datetime | None = None,
    impact: str = "",
    affected_systems: int | None = None,
    affected_people: int | None = None,
    data_breach: bool = False,
    observables_text: str = "",
    attachments: Sequence[UploadedFile] = (),
    ip_address: str | None = None,
) -> Incident:
    """A report by an organization member (routed to its organization's responsible
    team) or an incident recorded by CERT staff (for an organization it covers, or for
    its own team). Pasted indicators become observables; automatic escalation rules
    apply at once."""
    scope = scope_for(actor)
    title = _text(title, _("Title"), required=True, limit=MAX_TITLE)
    description = _text(description, _("Description"))
    category, type = _classify(category, type)
    tlp, pap = _tlp(tlp), _pap(pap)
    org: Organization | None = None
    if reporting_org:
        org = _orgs(actor, [reporting_org])[0]
    elif len(scope.org_ids) == 1 and not scope.teams:
        org = Organization.objects.get(pk=next(iter(scope.org_ids)))
    write_seats = [seat for seat in scope.teams if seat.role in TEAM_WRITE_ROLES]
    team: Team
    if org is not None and org.pk in scope.org_ids:
        channel = Channel.ORGANIZATION
        team = org.responsible_team
    elif write_seats:
        channel = Channel.STAFF
        if handling_team:
            chosen = teams_visible_to(actor).filter(slug=handling_team).first()
            if chosen is None or not any(chosen.path.startswith(s.path) for s in write_seats):
                raise NotFound(_("No such team, or not one you handle incidents for."))
            team = chosen
        elif org is not None:
            team = org.responsible_team
        else:
            team = Team.objects.get(pk=write_seats[0].team_id)
        if org is not None and not any(
            org.responsible_team.path.startswith(s.path) for s in write_seats
        ):
            raise _forbidden()
    elif scope.org_ids and org is None:
        raise Invalid(_("Name the organization you report for (reporting_org)."))
    else:
        raise Forbidden(_("Only organization members and CERT analysts can report incidents."))
    affected = _orgs(actor, affected_orgs) if affected_orgs else ([org] if org else [])
    now = timezone.now()
    incident = Incident(
        reference=next_reference(now),
        title=title,
        description=description,
        channel=channel,
        category=category,
        type=type,
        tlp=tlp,
        pap=pap,
        reporting_org=org,
        reported_by=actor,
        handling_team=team,
        first_seen_at=first_seen_at,
        detected_at=detected_at,
        reported_at=now,
        impact=_text(impact, _("Impact")),
        affected_systems=affected_systems,
        affected_people=affected_people,
        data_breach=data_breach,
    )
    involved = {o.pk: o for o in [*affected, *([org] if org else [])]}
    incident.priority = _severity_for(incident, list(involved.values())).priority
    incident.reporting_profile = deadline_rules.profile_for(involved.values())
    incident.save()
    incident.affected_orgs.set(affected)
    _name_recipient(incident, user=actor, team=team)
    deadline_rules.create_deadlines(incident, now)
    _log(
        incident,
        actor,
        "reported",
        changes={
            "reference": incident.reference,
            "handling_team": team.slug,
            "reporting_org": org.slug if org else None,
            "priority": incident.priority,
            "tlp": tlp,
        },
        summary=title,
    )
    indicators = extract(observables_text, limit=setting("CERTHUB_MAX_EXTRACTED_OBSERVABLES"))
    if indicators:
        added = _add_observables(incident, actor, indicators, tlp=tlp, internal=False)
        _log(
            incident,
            actor,
            "observables_added",
            changes={"observables": [f"{o.kind}:{o.value}" for o in added]},
        )
    for upload in attachments:
        _store_attachment(incident, actor, upload, tlp=tlp, ip_address=ip_address)
    notify.reported(incident)
    _apply_escalation_rules(incident, actor)
    return incident


@dataclass(frozen=True)
class PublicReceipt:
    tracking_code: str  # shown once to the citizen, never stored
    incident: Incident | None  # None when the honeypot caught a robot


@transaction.atomic
def submit_public_report(
    *,
    title: str,
    description: str,
    reporter_name: str = "",
    reporter_email: str = "",
    observables_text: str = "",
    honeypot: str = "",
    ip_address: str | None,
) -> PublicReceipt:
    """A citizen's report without an account, to the national intake team. Answers the
    same way whoever the address belongs to (no account enumeration), refuses too many
    reports from one client address, and quietly drops what a robot fills in."""
    window = dt.timedelta(seconds=setting("CERTHUB_PUBLIC_REPORT_WINDOW_SECONDS"))
    now = timezone.now()
    if public_submissions_since(ip_address, now - window) >= setting(
        "CERTHUB_PUBLIC_REPORTS_PER_IP"
    ):
        raise Throttled(
            _(
                "Too many reports from your network address. Please wait %(minutes)d "
                "minutes before sending another, or call the CERT's hotline if it is urgent."
            )
            % {"minutes": max(1, int(window.total_seconds() // 60))}
        )
    PublicSubmission.objects.create(ip_address=ip_address)
    code = secrets.token_urlsafe(20)
    if honeypot.strip():
        # A robot filled in the hidden field: it gets an answer that looks the same.
        return PublicReceipt(code, None)
    title = _text(
        title, _("Title"), required=True, limit=setting("CERTHUB_PUBLIC_REPORT_MAX_TITLE")
    )
    description = _text(
        description,
        _("Description"),
        required=True,
        limit=setting("CERTHUB_PUBLIC_REPORT_MAX_DESCRIPTION"),
    )
    team = routing.national_intake()
    incident = Incident(
        reference=next_reference(now),
        title=title,
        description=description,
        channel=Channel.PUBLIC,
        tlp=TLP.AMBER,
        pap=PAP.AMBER,
        reporter_name=_text(reporter_name, _("Name"), limit=200),
        reporter_email=_text(reporter_email, _("E-mail"), limit=254),
        tracking_code_hash=hash_tracking_code(code),
        handling_team=team,
        reported_at=now,
        priority=severity.assess(None).priority,
    )
    incident.save()
    _name_recipient(incident, team=team)
    deadline_rules.create_deadlines(incident, now)
    _log(
        incident,
        None,
        "reported",
        changes={
            "reference": incident.reference,
            "handling_team": team.slug,
            "channel": Channel.PUBLIC,
        },
        summary=title,
    )
    indicators = extract(observables_text, limit=setting("CERTHUB_MAX_EXTRACTED_OBSERVABLES"))
    if indicators:
        _add_observables(incident, None, indicators, tlp=TLP.AMBER, internal=False)
    notify.reported(incident)
    return PublicReceipt(code, incident)


# --- Changing an incident --------------------------------------------------------------

EDITABLE = (
    "title",
    "description",
    "tlp",
    "pap",
    "first_seen_at",
    "detected_at",
    "impact",
    "affected_systems",
    "affected_people",
    "data_breach",
)


@transaction.atomic
def update_incident(*, actor: Any, incident: Incident, changes: Mapping[str, Any]) -> Incident:
    """Change any of: the editable fields, classification (``category`` + ``type``),
    ``status`` (along the workflow; ``duplicate_of`` with status duplicate),
    ``assignee`` (a username, or None), ``severity`` (the answers, or None) and
    ``affected_orgs`` (slugs). Triage is for the handling side only."""
    access = access_for(actor, incident)
    _require(access.can_handle)
    incident = _locked(incident)
    before_orgs = sorted(o.slug for o in incident.affected_orgs.all())
    fields: dict[str, Any] = {}
    for name in EDITABLE:
        if name not in changes:
            continue
        value = changes[name]
        if name == "title":
            value = _text(value, _("Title"), required=True, limit=MAX_TITLE)
        elif name in ("description", "impact"):
            value = _text(value, name)
        elif name == "tlp":
            value = _tlp(value)
        elif name == "pap":
            value = _pap(value)
        if getattr(incident, name) != value:
            fields[name] = [getattr(incident, name), value]
            setattr(incident, name, value)
    if "category" in changes or "type" in changes:
        category, type_ = _classify(
            changes.get("category", incident.category), changes.get("type", incident.type)
        )
        if (category, type_) != (incident.category, incident.type):
            fields["classification"] = [
                f"{incident.category}/{incident.type}",
                f"{category}/{type_}",
            ]
            incident.category, incident.type = category, type_
    if "assignee" in changes:
        _assign(incident, actor, changes["assignee"], fields)
    if "affected_orgs" in changes:
        orgs = _orgs(actor, changes["affected_orgs"] or [])
        after_orgs = sorted(o.slug for o in orgs)
        if after_orgs != before_orgs:
            incident.affected_orgs.set(orgs)
            fields["affected_orgs"] = [before_orgs, after_orgs]
    if "severity" in changes:
        answers = dict(changes["severity"] or {})
        if answers:
            severity.score(answers)  # validate before storing
        if answers != incident.severity_answers:
            fields["severity"] = [incident.severity_answers, answers]
            incident.severity_answers = answers
    # Priority and deadlines follow from severity, organizations and detection time.
    involved = _involved_orgs(incident)
    assessed = _severity_for(incident, involved)
    if assessed.score != incident.severity_score:
        fields["severity_score"] = [incident.severity_score, assessed.score]
        incident.severity_score = assessed.score
    if assessed.priority != incident.priority:
        fields["priority"] = [incident.priority, assessed.priority]
        incident.priority = assessed.priority
    profile = deadline_rules.profile_for(involved)
    if profile != incident.reporting_profile:
        fields["reporting_profile"] = [incident.reporting_profile, profile]
        incident.reporting_profile = profile
    if "status" in changes:
        duplicate_of = changes.get("duplicate_of")
        _transition(incident, actor, changes["status"], fields, duplicate_of=duplicate_of)
    if not fields:
        return incident
    incident.save()
    if {"priority", "reporting_profile", "detected_at"} & set(fields):
        moved = deadline_rules.reschedule(incident)
        if moved:
            fields["deadlines"] = moved
    status_change = fields.pop("status", None)
    if status_change:
        _log(
            incident,
            actor,
            "status_changed",
            changes={"status": status_change},
            summary=f"{status_change[0]} -> {status_change[1]}",
        )
    assignee_change = fields.pop("assignee", None)
    if assignee_change:
        _log(incident, actor, "assigned", changes={"assignee": assignee_change}, internal=True)
        if incident.assignee is not None and incident.assignee != actor:
            notify.assigned(incident, incident.assignee, _("Incident assigned to you"))
    if fields:
        internal = set(fields) <= {
            "severity",
            "severity_score",
            "priority",
            "deadlines",
            "reporting_profile",
        }
        _log(incident, actor, "updated", changes=fields, internal=internal)
    _apply_escalation_rules(incident, actor)
    return incident


def _assign(incident: Incident, actor: Any, username: str | None, fields: dict[str, Any]) -> None:
    before = incident.assignee.get_username() if incident.assignee else None
    if not username:
        if before is not None:
            fields["assignee"] = [before, None]
            incident.assignee = None
        return
    membership = _staff_membership(incident, username)
    if membership is None:
        raise Invalid(
            _("%(user)s is not an analyst of the handling or a participating team.")
            % {"user": username}
        )
    if before != membership.user.get_username():
        fields["assignee"] = [before, membership.user.get_username()]
        incident.assignee = membership.user


def _staff_membership(incident: Incident, username: str) -> Membership | None:
    team_ids = {
        incident.handling_team_id,
        *incident.participations.values_list("team_id", flat=True),
    }
    return (
        Membership.objects.select_related("user")
        .filter(
            user__username=username,
            user__is_active=True,
            team_id__in=team_ids,
            role__in=TEAM_WRITE_ROLES,
        )
        .first()
    )


def _transition(
    incident: Incident,
    actor: Any,
    status: str,
    fields: dict[str, Any],
    *,
    duplicate_of: str | None = None,
) -> None:
    old = incident.status
    if status not in Status.values:
        raise Invalid(_("Unknown status %(s)s.") % {"s": status})
    if status == old:
        return
    if status not in TRANSITIONS[old]:
        allowed = ", ".join(sorted(TRANSITIONS[old])) or _("none")
        raise Invalid(
            _(
                "An incident cannot go from %(old)s to %(new)s; from %(old)s it may go to: "
                "%(allowed)s."
            )
            % {"old": old, "new": status, "allowed": allowed}
        )
    if status == Status.DUPLICATE:
        if not duplicate_of:
            raise Invalid(_("Say which incident this one duplicates (duplicate_of)."))
        target = _visible_other(actor, incident, duplicate_of)
        incident.merged_into = target
        IncidentLink.objects.get_or_create(
            source=incident,
            target=target,
            kind=LinkKind.DUPLICATE,
            defaults={"created_by": actor},
        )
        fields["merged_into"] = [None, target.reference]
    incident.status = status
    fields["status"] = [old, status]
    deadline_rules.on_status(incident, old, status, timezone.now())


def _visible_other(actor: Any, incident: Incident, reference: str) -> Incident:
    other = incidents_visible_to(actor).filter(reference=str(reference).upper()).first()
    if other is None:
        raise NotFound(_("No such incident: %(ref)s.") % {"ref": reference})
    if other.pk == incident.pk:
        raise Invalid(_("An incident cannot be linked to itself."))
    return other


@transaction.atomic
def link_incidents(*, actor: Any, incident: Incident, other: str, kind: str) -> IncidentLink:
    """Link to another visible incident: related, part of a campaign (``other`` is the
    parent), or duplicate (this incident is merged into ``other``)."""
    access = access_for(actor, incident)
    _require(access.can_handle)
    if kind not in LinkKind.values:
        raise Invalid(_("Unknown link kind %(k)s.") % {"k": kind})
    if kind == LinkKind.DUPLICATE:
        update_incident(
            actor=actor,
            incident=incident,
            changes={"status": Status.DUPLICATE, "duplicate_of": other},
        )
        return IncidentLink.objects.get(source=incident, kind=LinkKind.DUPLICATE)
    incident = _locked(incident)
    target = _visible_other(actor, incident, other)
    link, created = IncidentLink.objects.get_or_create(
        source=incident, target=target, kind=kind, defaults={"created_by": actor}
    )
    if not created:
        raise Conflict(_("These incidents are already linked this way."))
    _log(
        incident,
        actor,
        "linked",
        changes={"link": [None, f"{kind}:{target.reference}"]},
        internal=True,
        obj=link,
    )
    return link


# --- Routing: escalation, delegation, participants -------------------------------------


def _move(
    incident: Incident, actor: Any, target: Team, *, action: str, reason: str, automatic: str = ""
) -> None:
    """Hand the incident to ``target``; the previous team stays participant when it
    would otherwise lose sight of it (an escalation up)."""
    previous = incident.handling_team
    if action == "escalated":
        Participation.objects.get_or_create(
            incident=incident,
            team=previous,
            defaults={"reason": _("Escalated from this team"), "added_by": actor},
        )
    Participation.objects.filter(incident=incident, team=target).delete()
    incident.handling_team = target
    incident.save(update_fields=["handling_team", "updated_at"])
    _name_recipient(incident, team=target)
    changes: dict[str, Any] = {"handling_team": [previous.slug, target.slug], "reason": reason}
    if automatic:
        changes["rule"] = automatic
    _log(incident, actor, action, changes=changes, summary=reason, internal=True)
    what = (
        _("Incident escalated to %(team)s")
        if action == "escalated"
        else _("Incident delegated to %(team)s")
    ) % {"team": target.name}
    notify.moved(incident, target, what, reason)


def _apply_escalation_rules(
    incident: Incident, actor: Any, *, widespread_team_paths: Sequence[str] | None = None
) -> None:
    hits = routing.rules_applying(
        handling=incident.handling_team,
        priority=incident.priority,
        orgs=_involved_orgs(incident),
        already_fired=incident.escalation_rules_fired,
        widespread_team_paths=widespread_team_paths,
    )
    if not hits:
        return
    incident.escalation_rules_fired = [*incident.escalation_rules_fired, *(h.key for h in hits)]
    incident.save(update_fields=["escalation_rules_fired"])
    moving = [h for h in hits if h.target is not None]
    if moving:
        # The highest target wins: one move covers every rule that fired.
        hit = min(moving, key=lambda h: h.target.depth if h.target else 0)
        assert hit.target is not None
        reasons = {
            "cii_affected": _("A CII organization is affected."),
            "priority_at_least": _("The priority is High or above."),
            "multiple_sectors": _("Organizations of more than one sector are affected."),
            "widespread": _("The same indicator is in incidents of several organizations."),
        }
        _move(
            incident,
            actor,
            hit.target,
            action="escalated",
            reason=_("Automatic escalation: %(why)s") % {"why": reasons[hit.rule]},
            automatic=",".join(h.key for h in moving),
        )


@transaction.atomic
def apply_widespread_rule(
    *, incident_ids: Sequence[int], team_paths: Sequence[str]
) -> list[Incident]:
    """The automatic rule "widespread" (DESIGN.md section 4), for the incidents holding
    an indicator the correlation index found across several organizations: each moves
    to the lowest team above its handling team and ``team_paths`` (the responsible teams
    of the organizations seen with the indicator), once per incident, like the other
    rules. TLP:RED incidents are left alone: a move would name the new team a recipient
    of content its reporter addressed to others. Returns the incidents that moved."""
    moved: list[Incident] = []
    for incident_id in sorted(set(incident_ids)):
        incident = Incident.objects.filter(pk=incident_id).first()
        if incident is None or incident.tlp == TLP.RED:
            continue
        incident = _locked(incident)
        before = incident.handling_team_id
        _apply_escalation_rules(incident, None, widespread_team_paths=list(team_paths))
        if incident.handling_team_id != before:
            moved.append(incident)
    return moved


@transaction.atomic
def escalate_incident(
    *, actor: Any, incident: Incident, reason: str, to_team: str | None = None
) -> Incident:
    """Move handling up to the parent team, or to a named team above; the lower team
    stays participant. Analysts and coordinators of the handling side."""
    access = access_for(actor, incident)
    _require(access.can_handle)
    reason = _text(reason, _("Reason"), required=True, limit=500)
    incident = _locked(incident)
    handling = incident.handling_team
    if to_team:
        target = Team.objects.filter(slug=to_team).first()
        if target is None or target.pk not in handling.ancestor_ids:
            raise Invalid(_("%(team)s is not above the handling team.") % {"team": to_team})
    else:
        target = handling.parent
        if target is None:
            raise Invalid(_("The handling team has no team above it."))
    _move(incident, actor, target, action="escalated", reason=reason)
    return incident


@transaction.atomic
def delegate_incident(*, actor: Any, incident: Incident, to_team: str, reason: str) -> Incident:
    """Move handling down to a team below the handling team. Coordinators only."""
    access = access_for(actor, incident)
    _require(access.can_coordinate)
    reason = _text(reason, _("Reason"), required=True, limit=500)
    incident = _locked(incident)
    target = Team.objects.filter(slug=to_team).first()
    handling = incident.handling_team
    if target is None or target.pk == handling.pk or not handling.is_ancestor_of(target):
        raise Invalid(_("%(team)s is not a team below the handling team.") % {"team": to_team})
    _move(incident, actor, target, action="delegated", reason=reason)
    return incident


@transaction.atomic
def add_participant(
    *, actor: Any, incident: Incident, team: str, reason: str = ""
) -> Participation:
    access = access_for(actor, incident)
    _require(access.can_coordinate)
    reason = _text(reason, _("Reason"), limit=500)
    incident = _locked(incident)
    target = teams_visible_to(actor).filter(slug=team).first()
    if target is None:
        raise NotFound(_("No such team."))
    if target.pk == incident.handling_team_id:
        raise Invalid(_("The handling team already handles this incident."))
    participation, created = Participation.objects.get_or_create(
        incident=incident, team=target, defaults={"reason": reason, "added_by": actor}
    )
    if not created:
        raise Conflict(_("%(team)s already takes part.") % {"team": target.name})
    _log(
        incident,
        actor,
        "participant_added",
        changes={"participant": [None, target.slug]},
        summary=reason,
        internal=True,
    )
    notify.moved(incident, target, _("Your team was added to an incident"), reason)
    return participation


@transaction.atomic
def remove_participant(*, actor: Any, incident: Incident, team: str) -> None:
    access = access_for(actor, incident)
    _require(access.can_coordinate)
    incident = _locked(incident)
    deleted, _rows = Participation.objects.filter(incident=incident, team__slug=team).delete()
    if not deleted:
        raise NotFound(_("%(team)s does not take part in this incident.") % {"team": team})
    _log(
        incident, actor, "participant_removed", changes={"participant": [team, None]}, internal=True
    )


# --- Notes, tasks, observables, attachments --------------------------------------------


@transaction.atomic
def add_note(
    *,
    actor: Any,
    incident: Incident,
    body: str,
    visibility: str = NoteVisibility.INTERNAL,
    tlp: str | None = None,
) -> Note:
    """Staff write internal or shared notes; the reporting or an affected organization
    writes shared ones only."""
    access = access_for(actor, incident)
    _require(access.full_content and (access.can_contribute or access.can_reply))
    if visibility not in NoteVisibility.values:
        raise Invalid(_("Unknown note visibility %(v)s.") % {"v": visibility})
    if not access.can_contribute and visibility != NoteVisibility.SHARED:
        raise Forbidden(_("Only CERT staff write internal notes."))
    body = _text(body, _("Note"), required=True)
    incident = _locked(incident)
    note = Note.objects.create(
        incident=incident,
        author=actor,
        body=body,
        visibility=visibility,
        tlp=_tlp(tlp or incident.tlp),
    )
    shared = visibility == NoteVisibility.SHARED
    _log(
        incident,
        actor,
        "note_added",
        changes={"note": note.pk, "visibility": visibility, "tlp": note.tlp},
        internal=not shared,
        obj=note,
    )
    if shared:
        staff = access.can_contribute
        if staff:
            deadline_rules.meet(incident, DeadlineKind.FIRST_RESPONSE, timezone.now())
        notify.shared_note(incident, body=body, tlp=note.tlp, from_staff=staff)
    return note


@transaction.atomic
def add_task(
    *,
    actor: Any,
    incident: Incident,
    title: str,
    description: str = "",
    due_at: dt.datetime | None = None,
    assignee: str | None = None,
) -> Task:
    access = access_for(actor, incident)
    _require(access.full_content and access.can_contribute)
    incident = _locked(incident)
    user = None
    if assignee:
        membership = _staff_membership(incident, assignee)
        if membership is None:
            raise Invalid(
                _("%(user)s is not an analyst of the handling or a participating team.")
                % {"user": assignee}
            )
        user = membership.user
    task = Task.objects.create(
        incident=incident,
        title=_text(title, _("Title"), required=True, limit=MAX_TITLE),
        description=_text(description, _("Description")),
        due_at=due_at,
        assignee=user,
        created_by=actor,
    )
    _log(
        incident,
        actor,
        "task_added",
        changes={
            "task": task.pk,
            "assignee": user.get_username() if user else None,
            "due_at": due_at,
        },
        summary=task.title,
        internal=True,
        obj=task,
    )
    if user is not None and user != actor:
        notify.assigned(incident, user, _("Task assigned to you: %(t)s") % {"t": task.title})
    return task


@transaction.atomic
def complete_task(*, actor: Any, incident: Incident, task_id: int) -> Task:
    """Mark a task of the incident done. Analysts and coordinators of the handling side
    or of a participating team; a task is completed once."""
    access = access_for(actor, incident)
    _require(access.full_content and access.can_contribute)
    incident = _locked(incident)
    task = Task.objects.filter(incident=incident, pk=task_id).first()
    if task is None:
        raise NotFound(_("This incident has no such task."))
    if task.done_at is not None:
        raise Conflict(_("This task is already done."))
    task.done_at = timezone.now()
    task.save(update_fields=["done_at"])
    _log(
        incident,
        actor,
        "task_completed",
        changes={"task": task.pk, "done_at": [None, task.done_at]},
        summary=task.title,
        internal=True,
        obj=task,
    )
    return task


@transaction.atomic
def add_observables(
    *,
    actor: Any,
    incident: Incident,
    items: Sequence[tuple[str, str]] = (),
    text: str = "",
    tlp: str | None = None,
    internal: bool = False,
    comment: str = "",
) -> list[Observable]:
    """Typed values (``items``: kind and value) and/or pasted text (indicators are
    extracted, defanged forms understood). Values already on the incident are skipped.
    Organizations add shared observables only."""
    access = access_for(actor, incident)
    _require(access.full_content and (access.can_contribute or access.can_reply))
    if internal and not access.can_contribute:
        raise Forbidden(_("Only CERT staff add internal observables."))
    indicators = [normalise(kind, value) for kind, value in items]
    indicators += extract(
        _text(text, _("Text")), limit=setting("CERTHUB_MAX_EXTRACTED_OBSERVABLES")
    )
    if not indicators:
        raise Invalid(_("No observable found in what you sent."))
    incident = _locked(incident)
    added = _add_observables(
        incident,
        actor,
        indicators,
        tlp=_tlp(tlp or incident.tlp),
        internal=internal,
        comment=_text(comment, _("Comment"), limit=500),
    )
    if added:
        _log(
            incident,
            actor,
            "observables_added",
            changes={"observables": [f"{o.kind}:{o.value}" for o in added]},
            internal=internal,
        )
    return added


def attachment_path(sha256: str) -> Path:
    """Where the bytes with this SHA-256 live: MEDIA_ROOT/attachments/ab/cd/<sha256>."""
    return Path(settings.MEDIA_ROOT) / "attachments" / sha256[:2] / sha256[2:4] / sha256


def _sniff(content: bytes) -> str:
    try:
        return puremagic.from_string(content, mime=True) or "application/octet-stream"
    except (puremagic.PureError, ValueError):
        return "application/octet-stream"


def _safe_filename(name: str) -> str:
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(c for c in base if c.isprintable() and c not in '<>:"|?*').strip(" .")
    return base[:255] or "attachment"


def _store_attachment(
    incident: Incident, actor: Any, upload: UploadedFile, *, tlp: str, ip_address: str | None
) -> Attachment:
    content = upload.content
    limit = setting("CERTHUB_ATTACHMENT_MAX_BYTES")
    if len(content) > limit:
        raise Invalid(
            _("The file is too large (%(size)d bytes; at most %(limit)d).")
            % {"size": len(content), "limit": limit}
        )
    if not content:
        raise Invalid(_("The file is empty."))
    digest = hashlib.sha256(content).hexdigest()
    if incident.attachments.filter(sha256=digest).exists():
        raise Conflict(_("This file is already attached to the incident."))
    path = attachment_path(digest)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        # Write to a temporary file and rename: a reader never sees half a file.
        fd, tmp = tempfile.mkstemp(dir=path.parent)
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
        os.replace(tmp, path)
    user = actor if getattr(actor, "pk", None) else None
    attachment = Attachment.objects.create(
        incident=incident,
        sha256=digest,
        filename=_safe_filename(upload.filename),
        size=len(content),
        content_type=_sniff(content),
        tlp=tlp,
        uploaded_by=user,
    )
    CustodyEntry.objects.create(
        attachment=attachment,
        action=CustodyAction.UPLOADED,
        actor=user,
        actor_name=user.get_username() if user else "",
        ip_address=ip_address,
        sha256=digest,
    )
    _log(
        incident,
        actor,
        "attachment_added",
        changes={
            "sha256": digest,
            "filename": attachment.filename,
            "size": len(content),
            "content_type": attachment.content_type,
        },
        summary=attachment.filename,
        obj=attachment,
    )
    return attachment


@transaction.atomic
def add_attachment(
    *,
    actor: Any,
    incident: Incident,
    upload: UploadedFile,
    tlp: str | None = None,
    ip_address: str | None = None,
) -> Attachment:
    access = access_for(actor, incident)
    _require(access.full_content and (access.can_contribute or access.can_reply))
    incident = _locked(incident)
    return _store_attachment(
        incident, actor, upload, tlp=_tlp(tlp or incident.tlp), ip_address=ip_address
    )


@transaction.atomic
def download_attachment(
    *, actor: Any, attachment: Attachment, ip_address: str | None = None
) -> bytes:
    """The bytes of an attachment the caller may see (found through the selectors),
    checked against their SHA-256, with a chain-of-custody entry for the download."""
    try:
        content = attachment_path(attachment.sha256).read_bytes()
    except OSError as exc:
        raise Conflict(_("The stored file is missing; tell the platform administrator.")) from exc
    if hashlib.sha256(content).hexdigest() != attachment.sha256:
        raise Conflict(_("The stored file no longer matches its SHA-256; it was not served."))
    CustodyEntry.objects.create(
        attachment=attachment,
        action=CustodyAction.DOWNLOADED,
        actor=actor,
        actor_name=actor.get_username(),
        ip_address=ip_address,
        sha256=attachment.sha256,
    )
    audit.record(
        actor=actor,
        action="incident.attachment_downloaded",
        obj=attachment,
        changes={"sha256": attachment.sha256},
    )
    return content


# --- Deadlines -------------------------------------------------------------------------


@transaction.atomic
def meet_deadline(*, actor: Any, incident: Incident, kind: str) -> Deadline:
    """Record that a reporting obligation was met (the notification or final report
    arrived). Response SLAs are met by the work itself, not by hand."""
    access = access_for(actor, incident)
    _require(access.full_content and (access.can_handle or access.can_reply))
    if kind not in REPORTING_DEADLINES:
        raise Invalid(
            _("Only reporting deadlines are met by hand: %(k)s.")
            % {"k": ", ".join(REPORTING_DEADLINES)}
        )
    incident = _locked(incident)
    deadline = Deadline.objects.filter(incident=incident, kind=kind).first()
    if deadline is None:
        raise NotFound(_("This incident has no %(k)s deadline.") % {"k": kind})
    if deadline.met_at is not None:
        raise Conflict(_("This deadline was met already."))
    deadline.met_at = timezone.now()
    deadline.save(update_fields=["met_at"])
    _log(
        incident,
        actor,
        "deadline_met",
        changes={"deadline": kind, "met_at": deadline.met_at},
        obj=deadline,
    )
    return deadline


def check_deadlines(*, now: dt.datetime | None = None) -> int:
    """Notify every breached deadline once. Each breach is handled in its own
    transaction and marked notified there, so a crash or a second worker never sends
    a breach twice (the mail also carries a dedup key). Returns how many were new."""
    now = now or timezone.now()
    count = 0
    for deadline_id in list(breaches_to_notify(now).values_list("pk", flat=True)[:1000]):
        count += _notify_breach(deadline_id, now)
    return count


@transaction.atomic
def _notify_breach(deadline_id: int, now: dt.datetime) -> int:
    deadline = (
        breaches_to_notify(now).select_for_update(skip_locked=True).filter(pk=deadline_id).first()
    )
    if deadline is None:
        return 0
    deadline.breach_notified_at = now
    deadline.save(update_fields=["breach_notified_at"])
    incident = Incident.objects.select_related("handling_team", "assignee", "reported_by").get(
        pk=deadline.incident_id
    )
    label = DeadlineKind(deadline.kind).label
    _log(
        incident,
        None,
        "deadline_breached",
        changes={"deadline": deadline.kind, "due_at": deadline.due_at},
        summary=str(label),
        internal=deadline.kind not in REPORTING_DEADLINES,
        obj=deadline,
    )
    notify.breached(
        incident,
        deadline_id=deadline.pk,
        kind_label=str(label),
        reporter_side=deadline.kind in REPORTING_DEADLINES,
    )
    return 1


# --- The work queue: bulk changes and saved views --------------------------------------

BULK_LIMIT = 200
BULK_CHANGES = frozenset({"status", "assignee"})


@transaction.atomic
def bulk_update_incidents(
    *, actor: Any, references: Sequence[str], changes: Mapping[str, Any]
) -> list[Incident]:
    """The same status change or assignment on several incidents at once, each through
    ``update_incident`` (so each is checked, audited and on its own timeline). All or
    nothing: when one incident refuses, none changes, and the error names it."""
    if not set(changes) or set(changes) - BULK_CHANGES:
        raise Invalid(_("A bulk change sets the status or the assignee."))
    wanted = list(dict.fromkeys(str(r).strip().upper() for r in references if str(r).strip()))
    if not wanted:
        raise Invalid(_("Select at least one incident."))
    if len(wanted) > BULK_LIMIT:
        raise Invalid(_("Select at most %(n)d incidents at once.") % {"n": BULK_LIMIT})
    changed = []
    for reference in wanted:
        try:
            incident = get_incident(actor, reference)
            changed.append(update_incident(actor=actor, incident=incident, changes=changes))
        except (Invalid, Forbidden, Conflict, NotFound) as exc:
            raise type(exc)(f"{reference}: {exc.message}", status=exc.status) from exc
    return changed


MAX_SAVED_VIEWS = 50


@transaction.atomic
def save_view(*, actor: Any, name: str, query: str) -> SavedView:
    """Keep the queue's current filters under a name; the same name again replaces its
    filters."""
    if not getattr(actor, "pk", None):
        raise Forbidden(_("Sign in to save views."))
    name = _text(name, _("Name"), required=True, limit=100)
    query = _text(query, _("Filters"), limit=2000).lstrip("?")
    view = SavedView.objects.select_for_update().filter(user=actor, name=name).first()
    if view is None:
        if SavedView.objects.filter(user=actor).count() >= MAX_SAVED_VIEWS:
            raise Conflict(
                _("You have %(n)d saved views already; delete one first.") % {"n": MAX_SAVED_VIEWS}
            )
        view = SavedView.objects.create(user=actor, name=name, query=query)
        before = None
    else:
        before = view.query
        view.query = query
        view.save(update_fields=["query"])
    audit.record(
        actor=actor, action="incident.view_saved", obj=view, changes={"query": [before, query]}
    )
    return view


@transaction.atomic
def delete_saved_view(*, actor: Any, view_id: int) -> None:
    """Delete one of the actor's own saved views (anyone else's answers not found)."""
    user_id = getattr(actor, "pk", None)
    view = SavedView.objects.filter(user_id=user_id, pk=view_id).first() if user_id else None
    if view is None:
        raise NotFound(_("No such saved view."))
    audit.record(
        actor=actor, action="incident.view_deleted", obj=view, changes={"name": [view.name, None]}
    )
    view.delete()


# --- Incidents opened by the platform itself -------------------------------------------


@transaction.atomic
def open_automatic_incident(
    *,
    title: str,
    description: str,
    organization: Organization,
    category: str = "",
    type: str = "",
    tlp: str = TLP.AMBER,
    pap: str = PAP.AMBER,
    observables: Sequence[tuple[str, str]] = (),
    attachments: Sequence[UploadedFile] = (),
) -> Incident:
    """An incident certhub opens without a person (actor None, e.g. a feed rule): for
    ``organization`` (affected), handled by its responsible team, with typed observables
    and attachments. Deadlines, notifications and escalation rules apply as for any
    report. Callers check their own conditions; this checks no permission."""
    title = _text(title, _("Title"), required=True, limit=MAX_TITLE)
    description = _text(description, _("Description"))
    if classification(category, type) is None:
        category, type = "", ""
    now = timezone.now()
    team = organization.responsible_team
    incident = Incident(
        reference=next_reference(now),
        title=title,
        description=description,
        channel=Channel.STAFF,
        category=category,
        type=type,
        tlp=_tlp(tlp),
        pap=_pap(pap),
        handling_team=team,
        detected_at=now,
        reported_at=now,
    )
    incident.priority = _severity_for(incident, [organization]).priority
    incident.reporting_profile = deadline_rules.profile_for([organization])
    incident.save()
    incident.affected_orgs.set([organization])
    _name_recipient(incident, team=team)
    deadline_rules.create_deadlines(incident, now)
    _log(
        incident,
        None,
        "reported",
        changes={
            "reference": incident.reference,
            "handling_team": team.slug,
            "priority": incident.priority,
            "tlp": incident.tlp,
        },
        summary=title,
    )
    indicators = [normalise(kind, value) for kind, value in observables]
    if indicators:
        added = _add_observables(incident, None, indicators, tlp=incident.tlp, internal=False)
        _log(
            incident,
            None,
            "observables_added",
            changes={"observables": [f"{o.kind}:{o.value}" for o in added]},
        )
    for upload in attachments:
        _store_attachment(incident, None, upload, tlp=incident.tlp, ip_address=None)
    notify.reported(incident)
    _apply_escalation_rules(incident, None)
    return incident
