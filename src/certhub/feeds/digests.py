"""Daily outputs of the feed pipeline by e-mail.

- Each organization with events on a day gets one digest: a short summary (events by
  report feed and classification, the most seen addresses) and its events of that day
  as a CSV attachment, to its contacts that asked for feed digests. Sent once per
  organization and day (the notify dedup key), TLP:AMBER unless
  CERTHUB_FEEDS_DIGEST_TLP says otherwise.
- Each responsible team gets a summary: events per organization it is responsible for;
  the national CERT (the root team) also learns how many events no organization owns.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count, QuerySet
from django.utils.translation import gettext as _

from certhub.audit.services import record
from certhub.feeds.models import Event
from certhub.feeds.selectors import events_of_day
from certhub.notify.services import Attachment, queue_mail
from certhub.tenancy.choices import NotificationKind
from certhub.tenancy.models import Contact, Organization, Team
from certhub.tenancy.tlp import TLP, Audience, SharePath, may_share

# The columns of every events CSV (digests, rule attachments, the API's CSV export).
CSV_COLUMNS = (
    "day",
    "time_source",
    "last_seen",
    "count",
    "organization",
    "feed_name",
    "classification_taxonomy",
    "classification_type",
    "classification_identifier",
    "source_ip",
    "source_port",
    "source_asn",
    "source_fqdn",
)
_VALUES = tuple("organization__slug" if c == "organization" else c for c in CSV_COLUMNS)
TOP_ADDRESSES = 10


def _cell(value: Any) -> Any:
    """A CSV cell; text that a spreadsheet would run as a formula is quoted with '."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def csv_lines(events: QuerySet[Event]) -> Iterator[str]:
    """The header and one line per event, as text (streamable)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow(CSV_COLUMNS)
    yield flush()
    for row in events.order_by("day", "pk").values_list(*_VALUES).iterator(chunk_size=2000):
        writer.writerow([_cell(v) for v in row])
        yield flush()


def events_csv(events: QuerySet[Event]) -> bytes:
    return "".join(csv_lines(events)).encode("utf-8")


def digest_tlp() -> str:
    tlp = str(getattr(settings, "CERTHUB_FEEDS_DIGEST_TLP", TLP.AMBER))
    return tlp if tlp in TLP.values else TLP.AMBER


def _wants_digests(contacts: Iterable[Contact]) -> list[str]:
    # notifications is a JSON list; "contains" on JSON is not portable (SQLite).
    return sorted(
        {c.email for c in contacts if NotificationKind.FEED_DIGESTS in (c.notifications or [])}
    )


@dataclass(frozen=True)
class Summary:
    total: int
    by_feed: list[tuple[str, int]]
    by_classification: list[tuple[str, int]]
    top_addresses: list[tuple[str, int]]


def summarise(events: QuerySet[Event]) -> Summary:
    by_feed = Counter[str]()
    by_class = Counter[str]()
    for feed, taxonomy, type_, n in events.values_list(
        "feed_name", "classification_taxonomy", "classification_type"
    ).annotate(n=Count("pk")):
        by_feed[feed] += n
        by_class[f"{taxonomy} / {type_}"] += n
    top = (
        events.exclude(source_ip=None)
        .values_list("source_ip")
        .annotate(n=Count("pk"))
        .order_by("-n", "source_ip")[:TOP_ADDRESSES]
    )
    return Summary(
        total=sum(by_feed.values()),
        by_feed=sorted(by_feed.items(), key=lambda kv: (-kv[1], kv[0])),
        by_classification=sorted(by_class.items(), key=lambda kv: (-kv[1], kv[0])),
        top_addresses=[(ip, n) for ip, n in top],
    )


def _summary_text(summary: Summary) -> str:
    lines = [_("Events: %(n)d") % {"n": summary.total}, "", _("By report feed:")]
    lines += [f"  {n:>6}  {feed}" for feed, n in summary.by_feed]
    lines += ["", _("By classification (taxonomy / type):")]
    lines += [f"  {n:>6}  {name}" for name, n in summary.by_classification]
    if summary.top_addresses:
        lines += ["", _("Most reported addresses:")]
        lines += [f"  {n:>6}  {ip}" for ip, n in summary.top_addresses]
    return "\n".join(lines)


def digest_key(organization: Organization, day: dt.date) -> str:
    return f"feeds.digest:org:{organization.pk}:{day.isoformat()}"


@transaction.atomic
def send_organization_digest(*, organization: Organization, day: dt.date) -> bool:
    """Queue one organization's digest of ``day`` (True) unless it has no events that
    day, no contact asked for digests, or it was sent already (False)."""
    events = events_of_day(day).filter(organization=organization)
    recipients = _wants_digests(organization.contacts.all())
    if not recipients or not events.exists():
        return False
    # The organization's own mailboxes, with a CSV file: the label must allow both.
    if not may_share(digest_tlp(), path=SharePath.CSV, audience=Audience.ORGANIZATION):
        return False
    summary = summarise(events)
    body = "\n".join(
        [
            _("Abuse feed digest of %(org)s for %(day)s (UTC).")
            % {"org": organization.name, "day": day.isoformat()},
            _(
                "These events were observed by the feeds your CERT receives; the attached CSV "
                "file lists each of them."
            ),
            "",
            _summary_text(summary),
        ]
    )
    mail = queue_mail(
        to=recipients,
        subject=_("Abuse feed digest %(day)s: %(n)d events for %(org)s")
        % {"day": day.isoformat(), "n": summary.total, "org": organization.name},
        body=body,
        tlp=digest_tlp(),
        kind="feed_digest",
        attachments=[
            Attachment(
                f"certhub-events-{organization.slug}-{day.isoformat()}.csv",
                events_csv(events),
                "text/csv",
            )
        ],
        dedup_key=digest_key(organization, day),
        audience=Audience.ORGANIZATION,
    )
    if mail is None:
        return False
    record(
        actor=None,
        action="feeds.digest_sent",
        obj=organization,
        changes={"day": [None, day.isoformat()], "events": [None, summary.total]},
    )
    return True


@transaction.atomic
def send_team_summary(*, team: Team, day: dt.date) -> bool:
    """Queue one responsible team's summary of ``day``: events per organization it is
    responsible for (as routed that day) and, for the root team, the unrouted events."""
    recipients = _wants_digests(team.contacts.all())
    if not recipients or not may_share(
        digest_tlp(), path=SharePath.EMAIL, audience=Audience.ORGANIZATION
    ):
        return False
    events = events_of_day(day)
    per_org = list(
        events.filter(team=team)
        .values_list("organization__name")
        .annotate(n=Count("pk"))
        .order_by("-n", "organization__name")
    )
    unrouted = events.filter(organization=None).count() if team.parent_id is None else 0
    if not per_org and not unrouted:
        return False
    lines = [
        _("Abuse feed summary of %(team)s for %(day)s (UTC).")
        % {"team": team.name, "day": day.isoformat()},
        "",
        _("Events per organization:"),
    ]
    lines += [f"  {n:>6}  {name}" for name, n in per_org] or ["  -"]
    if team.parent_id is None:
        lines += ["", _("Events no organization owns (unrouted): %(n)d") % {"n": unrouted}]
    total = sum(n for _name, n in per_org)
    mail = queue_mail(
        to=recipients,
        subject=_("Abuse feed summary %(day)s: %(n)d events for %(team)s")
        % {"day": day.isoformat(), "n": total, "team": team.name},
        body="\n".join(lines),
        tlp=digest_tlp(),
        kind="feed_digest",
        dedup_key=f"feeds.digest:team:{team.pk}:{day.isoformat()}",
        audience=Audience.ORGANIZATION,
    )
    if mail is None:
        return False
    record(
        actor=None,
        action="feeds.team_summary_sent",
        obj=team,
        changes={"day": [None, day.isoformat()], "events": [None, total]},
    )
    return True


@dataclass(frozen=True)
class DigestOutcome:
    organizations: int
    teams: int


def send_digests(*, day: dt.date) -> DigestOutcome:
    """Every organization digest and team summary of ``day`` (each in its own
    transaction: one failing recipient list does not hold back the others)."""
    events = events_of_day(day)
    org_ids = set(
        events.exclude(organization=None).values_list("organization_id", flat=True).distinct()
    )
    team_ids = set(events.exclude(team=None).values_list("team_id", flat=True).distinct())
    team_ids |= set(Team.objects.filter(parent=None).values_list("pk", flat=True))
    sent_orgs = sum(
        send_organization_digest(organization=org, day=day)
        for org in Organization.objects.filter(pk__in=org_ids).order_by("pk")
    )
    sent_teams = sum(
        send_team_summary(team=team, day=day)
        for team in Team.objects.filter(pk__in=team_ids).order_by("pk")
    )
    return DigestOutcome(sent_orgs, sent_teams)


def default_day() -> dt.date:
    """Yesterday (UTC): the last complete day."""
    return dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)
