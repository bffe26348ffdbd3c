"""Targeted distribution of a published advisory: who gets which e-mail.

Called by the services (inside their transaction); every message goes through
``notify.queue_mail``, which puts the TLP label before the subject and the body and the
tracking id into the subject, records the message and sends it after commit.

Recipients of a published revision, one message per organization or CERT so that
recipients never learn each other's addresses:
- each audience organization (``selectors.audience_organizations``): its contacts that
  receive advisories (``Contact.notifications`` contains ``advisories``) and its members
  who did not switch advisories off;
- the CERTs responsible for those organizations: their contacts that receive advisories
  (they help their constituents act);
- CERTs addressed as such (the kinds of a ``tiers`` audience, the named CERTs of a TLP:RED
  advisory): their contacts that receive advisories and their members who want it;
- TLP:RED: the named people, and for RED the text names the tracking id only (the
  content stays in certhub).
Every person passes ``selectors.user_may_read`` (the visibility rule of every page) and
every contact mailbox ``selectors.contact_may_receive`` (the TLP sharing check) before an
address is used: nobody the TLP and audience do not allow is ever written to.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext as _

from certhub.advisories import selectors
from certhub.advisories.choices import Exploitation, RemediationCategory, Severity
from certhub.advisories.models import Acknowledgement, Advisory, AdvisoryRevision
from certhub.notify.choices import NotificationKind
from certhub.notify.services import queue_mail, users_who_want
from certhub.tenancy.choices import NotificationKind as ContactKind
from certhub.tenancy.models import Contact, Membership, Organization, Team
from certhub.tenancy.tlp import TLP, Audience, strictest
from certhub.tenancy.visibility import TEAM_WRITE_ROLES

KIND = NotificationKind.ADVISORY_PUBLISHED


def sign_mail() -> bool:
    """Advisory mail is OpenPGP-signed with the platform key unless switched off."""
    return bool(getattr(settings, "CERTHUB_ADVISORY_SIGN_MAIL", True))


def advisory_url(advisory: Advisory) -> str:
    base = str(getattr(settings, "CERTHUB_BASE_URL", "")).rstrip("/")
    return base + reverse("advisories:detail", args=[advisory.tracking_id])


def ack_deadline(advisory: Advisory, delivered_at: dt.datetime) -> dt.datetime | None:
    hours = advisory.ack_hours
    return delivered_at + dt.timedelta(hours=hours) if hours else None


@dataclass
class Sent:
    organizations: int = 0
    messages: int = 0


# --- Addresses ---------------------------------------------------------------------------


def _contact_addresses(contacts: Iterable[Contact]) -> list[str]:
    return [c.email for c in contacts if ContactKind.ADVISORIES in (c.notifications or [])]


def _readers(advisory: Advisory, users: Iterable[Any]) -> list[str]:
    return [
        u.email for u in users_who_want(list(users), KIND) if selectors.user_may_read(u, advisory)
    ]


def _by_owner(rows: Iterable[Any], attribute: str) -> dict[int, list[Any]]:
    grouped: dict[int, list[Any]] = defaultdict(list)
    for row in rows:
        grouped[getattr(row, attribute)].append(row)
    return grouped


# --- Texts -------------------------------------------------------------------------------


def _score(cve: dict[str, Any]) -> str:
    parts = []
    for name, label in (("cvss_v3", "CVSS v3"), ("cvss_v4", "CVSS v4")):
        score = cve.get(name)
        if score:
            parts.append(f"{label} {score['score']:.1f} {score['severity']}")
    return ", ".join(parts)


def advisory_text(advisory: Advisory, revision: AdvisoryRevision) -> str:
    """The advisory as plain text, for a message to people who may read it."""
    content = revision.content
    lines = [content["title"], ""]
    if revision.withdrawn:
        lines += [
            _("This advisory is withdrawn: %(reason)s")
            % {"reason": content.get("withdrawal_reason", "")},
            "",
        ]
    lines.append(
        _("Severity: %(severity)s. Exploitation: %(exploitation)s.")
        % {
            "severity": Severity(content["severity"]).label,
            "exploitation": Exploitation(content["exploitation"]).label,
        }
    )
    lines.append(
        _("Revision %(number)d, published %(date)s UTC: %(change)s")
        % {
            "number": revision.number,
            "date": revision.published_at.strftime("%Y-%m-%d %H:%M"),
            "change": revision.change_summary,
        }
    )
    lines += ["", content["summary"], ""]
    if content.get("cves"):
        lines.append(_("Vulnerabilities:"))
        for cve in content["cves"]:
            score = _score(cve)
            lines.append(
                f"- {cve['cve']}"
                + (f" ({score})" if score else "")
                + (f": {cve['title']}" if cve.get("title") else "")
            )
        lines.append("")
    lines.append(_("Affected products:"))
    for product in content.get("products", []):
        text = f"- {product['vendor']} {product['product']}"
        if product.get("versions"):
            text += f" {product['versions']}"
        if product.get("fixed_version"):
            text += " " + _("(fixed in %(version)s)") % {"version": product["fixed_version"]}
        lines.append(text)
    lines.append("")
    if content.get("remediation"):
        category = RemediationCategory(content["remediation_category"]).label
        lines += [_("Remediation (%(category)s):") % {"category": category},
                  content["remediation"], ""]  # fmt: skip
    if content.get("workarounds"):
        lines += [_("Workarounds:"), content["workarounds"], ""]
    if content.get("references"):
        lines.append(_("References:"))
    for reference in content.get("references", []):
        lines.append(f"- {reference['url']} {reference.get('summary', '')}".rstrip())
    return "\n".join(lines).strip()


def _subject(advisory: Advisory, revision: AdvisoryRevision) -> str:
    if revision.tlp == TLP.RED:
        return _("Security advisory for named recipients")
    title = revision.content["title"]
    if revision.withdrawn:
        return _("Withdrawn: %(title)s") % {"title": title}
    if revision.number > 1:
        return _("Updated: %(title)s") % {"title": title}
    return title


def _body(
    advisory: Advisory, revision: AdvisoryRevision, *, deadline: dt.datetime | None = None
) -> str:
    url = advisory_url(advisory)
    if revision.tlp == TLP.RED:
        return _(
            "A TLP:RED advisory, %(tracking_id)s, is addressed to you by name. Its content "
            "stays in certhub; read it there:\n%(url)s"
        ) % {"tracking_id": advisory.tracking_id, "url": url}
    text = (
        advisory_text(advisory, revision) + "\n\n" + _("Read it in certhub: %(url)s") % {"url": url}
    )
    if deadline is not None and not revision.withdrawn:
        text += "\n\n" + _(
            "Please acknowledge it in certhub by %(deadline)s UTC (received, applied, not "
            "affected, or need help)."
        ) % {"deadline": deadline.strftime("%Y-%m-%d %H:%M")}
    return text


# --- Sending -----------------------------------------------------------------------------


def _send(
    advisory: Advisory,
    revision: AdvisoryRevision,
    to: list[str],
    key: str,
    *,
    deadline: dt.datetime | None = None,
) -> int:
    mail = queue_mail(
        to=to,
        subject=_subject(advisory, revision),
        body=_body(advisory, revision, deadline=deadline),
        tlp=revision.tlp,
        reference=advisory.tracking_id,
        kind=KIND,
        sign=sign_mail(),
        dedup_key=f"advisory:{advisory.pk}:r{revision.number}:{key}",
    )
    return 1 if mail is not None else 0


def send_revision(
    advisory: Advisory,
    revision: AdvisoryRevision,
    organizations: list[Organization],
    delivered_at: dict[int, dt.datetime],
) -> Sent:
    """E-mail one published revision to everyone it is addressed to (see the module
    docstring). Idempotent: a second run for the same revision sends nothing."""
    sent = Sent(organizations=len(organizations))
    org_ids = [org.pk for org in organizations]
    contact_ok = selectors.contact_may_receive(revision, Audience.ORGANIZATION)
    org_contacts = _by_owner(Contact.objects.filter(organization_id__in=org_ids), "organization_id")
    org_members = _by_owner(
        Membership.objects.filter(organization_id__in=org_ids).select_related("user"),
        "organization_id",
    )
    for org in organizations:
        to = _contact_addresses(org_contacts[org.pk]) if contact_ok else []
        to += _readers(advisory, [m.user for m in org_members[org.pk]])
        deadline = ack_deadline(advisory, delivered_at.get(org.pk, revision.published_at))
        sent.messages += _send(advisory, revision, to, f"org:{org.pk}", deadline=deadline)

    addressed = {team.pk: team for team in selectors.addressed_teams(revision)}
    responsible = {org.responsible_team_id for org in organizations}
    team_ids = sorted(responsible | set(addressed))
    team_contacts = _by_owner(Contact.objects.filter(team_id__in=team_ids), "team_id")
    team_members = _by_owner(
        Membership.objects.filter(team_id__in=sorted(addressed)).select_related("user"),
        "team_id",
    )
    audience = Audience.NAMED if revision.tlp == TLP.RED else Audience.ORGANIZATION
    team_contact_ok = selectors.contact_may_receive(revision, audience)
    for team_id in team_ids:
        to = _contact_addresses(team_contacts[team_id]) if team_contact_ok else []
        to += _readers(advisory, [m.user for m in team_members[team_id]])
        sent.messages += _send(advisory, revision, to, f"team:{team_id}")

    if revision.tlp == TLP.RED:
        for user in revision.red_recipient_users.all():
            sent.messages += _send(
                advisory, revision, _readers(advisory, [user]), f"user:{user.pk}"
            )
    return sent


def send_reminder(advisory: Advisory, organization: Organization, deadline: dt.datetime) -> int:
    """Remind an organization, once, that it has not acknowledged an advisory in time."""
    revision = advisory.latest_revision
    if revision is None:
        return 0
    to: list[str] = []
    if selectors.contact_may_receive(revision, Audience.ORGANIZATION):
        to = _contact_addresses(Contact.objects.filter(organization_id=organization.pk))
    members = Membership.objects.filter(organization_id=organization.pk).select_related("user")
    to += _readers(advisory, [m.user for m in members])
    body = _(
        "%(organization)s has not acknowledged this advisory, which asked for an answer by "
        "%(deadline)s UTC. Please tell us in certhub whether you applied the remediation, "
        "are not affected, or need help:\n%(url)s"
    ) % {
        "organization": organization.name,
        "deadline": deadline.strftime("%Y-%m-%d %H:%M"),
        "url": advisory_url(advisory),
    }
    if revision.tlp != TLP.RED:
        body += "\n\n" + advisory_text(advisory, revision)
    mail = queue_mail(
        to=to,
        subject=_("Reminder: please acknowledge %(title)s")
        % {"title": revision.content["title"] if revision.tlp != TLP.RED else advisory.tracking_id},
        body=body,
        tlp=revision.tlp,
        reference=advisory.tracking_id,
        kind=KIND,
        sign=sign_mail(),
        dedup_key=f"advisory-ack-reminder:{advisory.pk}:{organization.pk}",
    )
    return 1 if mail is not None else 0


def send_help_request(advisory: Advisory, acknowledgement: Acknowledgement) -> int:
    """An organization needs help with an advisory: tell the CERT responsible for it and
    the analysts and coordinators of the authoring CERT."""
    revision = advisory.latest_revision
    if revision is None:
        return 0
    organization = acknowledgement.organization
    # The comment describes the organization's own situation: never wider than AMBER.
    tlp = strictest(revision.tlp, TLP.AMBER)
    to: list[str] = []
    team: Team = organization.responsible_team
    to += _contact_addresses(Contact.objects.filter(team_id=team.pk))
    staff = Membership.objects.filter(
        team_id__in={team.pk, advisory.team_id}, role__in=TEAM_WRITE_ROLES
    ).select_related("user")
    to += _readers(advisory, [m.user for m in staff])
    body = _(
        "%(organization)s asks for help with advisory %(tracking_id)s:\n\n%(comment)s\n\n"
        "Acknowledgements: %(url)s"
    ) % {
        "organization": organization.name,
        "tracking_id": advisory.tracking_id,
        "comment": acknowledgement.comment,
        "url": str(getattr(settings, "CERTHUB_BASE_URL", "")).rstrip("/")
        + reverse("advisories:acknowledgements", args=[advisory.tracking_id]),
    }
    mail = queue_mail(
        to=to,
        subject=_("%(organization)s needs help") % {"organization": organization.name},
        body=body,
        tlp=tlp,
        reference=advisory.tracking_id,
        kind=KIND,
        sign=sign_mail(),
    )
    return 1 if mail is not None else 0
