"""Who hears about what happens to an incident, by e-mail through notify.queue_mail
(recorded in the service's transaction, delivered by the task worker after commit).

- Team side: the team's contacts that receive incident (or escalation) mail, and the
  team's analysts and coordinators who did not switch that kind of mail off.
- Reporter side: the reporting user, or the citizen's address of a public report. The
  reporter only ever hears of shared updates (never an internal note), in a message of
  its own (addresses of CERT staff are not disclosed to it).
- Every message carries the incident's TLP label before the subject and the body, and
  the reference in the subject (``[TLP:AMBER] [CERT-2026-000123] ...``). For a TLP:RED
  incident the message names the reference only: the content stays in certhub.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.utils.translation import gettext as _

from certhub.incidents.models import Incident
from certhub.notify.choices import NotificationKind
from certhub.notify.services import queue_mail, users_who_want
from certhub.tenancy.choices import NotificationKind as ContactKind
from certhub.tenancy.models import Contact, Membership, Team
from certhub.tenancy.tlp import TLP, strictest
from certhub.tenancy.visibility import TEAM_WRITE_ROLES


def _team_addresses(team: Team, *, user_kind: str, contact_kind: str) -> list[str]:
    contacts = [
        c.email
        for c in Contact.objects.filter(team=team)
        if contact_kind in (c.notifications or [])
    ]
    members = [
        m.user
        for m in Membership.objects.filter(team=team, role__in=TEAM_WRITE_ROLES).select_related(
            "user"
        )
    ]
    return contacts + [u.email for u in users_who_want(members, user_kind)]


def _user_addresses(users: Iterable[Any], kind: str) -> list[str]:
    return [u.email for u in users_who_want([u for u in users if u is not None], kind)]


def _headline(incident: Incident) -> str:
    if incident.tlp == TLP.RED:
        return incident.reference
    return f"{incident.reference}: {incident.title}"


def _send(
    incident: Incident,
    to: list[str],
    subject: str,
    body: str,
    *,
    tlp: str = "",
    kind: str,
    dedup_key: str | None = None,
) -> None:
    queue_mail(
        to=to,
        subject=subject,
        body=body + "\n\n" + _("Sign in to certhub to follow the incident."),
        tlp=tlp or incident.tlp,
        reference=incident.reference,
        kind=kind,
        dedup_key=dedup_key,
    )


def reported(incident: Incident) -> None:
    """A new incident for the handling team, and the acknowledgement to the reporter."""
    _send(
        incident,
        _team_addresses(
            incident.handling_team,
            user_kind=NotificationKind.INCIDENT_REPORTED,
            contact_kind=ContactKind.INCIDENTS,
        ),
        _("New incident for %(team)s") % {"team": incident.handling_team.name},
        _("A new incident was reported: %(headline)s") % {"headline": _headline(incident)},
        kind=NotificationKind.INCIDENT_REPORTED,
    )
    ack = _("We received your incident report and will handle it. Reference: %(ref)s") % {
        "ref": incident.reference
    }
    if incident.reported_by is not None:
        _send(
            incident,
            _user_addresses([incident.reported_by], NotificationKind.INCIDENT_UPDATED),
            _("Your report was received"),
            ack,
            kind=NotificationKind.INCIDENT_UPDATED,
        )
    elif incident.reporter_email:
        # A citizen: no reference (the public view is reference-free), only the receipt.
        queue_mail(
            to=[incident.reporter_email],
            subject=_("Your report was received"),
            body=_(
                "We received your report and will look at it. Use the tracking code shown "
                "when you submitted it to follow its status."
            ),
            tlp=incident.tlp,
            kind=NotificationKind.INCIDENT_UPDATED,
        )


def moved(incident: Incident, team: Team, what: str, reason: str) -> None:
    """Escalation, delegation or participation: tell the receiving team."""
    details = "" if incident.tlp == TLP.RED else f"\n\n{reason}"
    _send(
        incident,
        _team_addresses(
            team, user_kind=NotificationKind.INCIDENT_MOVED, contact_kind=ContactKind.ESCALATIONS
        ),
        what,
        f"{what}: {_headline(incident)}{details}",
        kind=NotificationKind.INCIDENT_MOVED,
    )


def assigned(incident: Incident, user: Any, what: str) -> None:
    _send(
        incident,
        _user_addresses([user], NotificationKind.INCIDENT_ASSIGNED),
        what,
        f"{what}: {_headline(incident)}",
        kind=NotificationKind.INCIDENT_ASSIGNED,
    )


def shared_note(incident: Incident, *, body: str, tlp: str, from_staff: bool) -> None:
    """A shared note: to the reporter when staff wrote it, to the handlers when the
    organization did. Internal notes are never sent."""
    label = strictest(incident.tlp, tlp)
    text = "" if label == TLP.RED else f"\n\n{body}"
    subject = _("New update on your incident") if from_staff else _("The reporter wrote")
    if from_staff:
        if incident.reported_by is not None:
            to = _user_addresses([incident.reported_by], NotificationKind.INCIDENT_UPDATED)
        else:
            to = [incident.reporter_email] if incident.reporter_email else []
    elif incident.assignee is not None:
        to = _user_addresses([incident.assignee], NotificationKind.INCIDENT_UPDATED)
    else:
        to = _team_addresses(
            incident.handling_team,
            user_kind=NotificationKind.INCIDENT_UPDATED,
            contact_kind=ContactKind.INCIDENTS,
        )
    _send(
        incident,
        to,
        subject,
        f"{_headline(incident)}{text}",
        tlp=label,
        kind=NotificationKind.INCIDENT_UPDATED,
    )


def breached(incident: Incident, *, deadline_id: int, kind_label: str, reporter_side: bool) -> None:
    """A missed deadline, once (the dedup key makes a second call send nothing)."""
    to = _team_addresses(
        incident.handling_team,
        user_kind=NotificationKind.DEADLINE_BREACHED,
        contact_kind=ContactKind.INCIDENTS,
    )
    if incident.assignee is not None:
        to += _user_addresses([incident.assignee], NotificationKind.DEADLINE_BREACHED)
    what = _("Deadline missed: %(kind)s") % {"kind": kind_label}
    _send(
        incident,
        to,
        what,
        f"{what}: {_headline(incident)}",
        kind=NotificationKind.DEADLINE_BREACHED,
        dedup_key=f"incident-deadline:{deadline_id}",
    )
    if reporter_side and incident.reported_by is not None:
        _send(
            incident,
            _user_addresses([incident.reported_by], NotificationKind.DEADLINE_BREACHED),
            what,
            f"{what}: {_headline(incident)}",
            kind=NotificationKind.DEADLINE_BREACHED,
            dedup_key=f"incident-deadline:{deadline_id}:reporter",
        )
