"""Incidents from feed rules (FeedRule): when an organization's events of a day match a
rule (classification, CII only, at least N events), open an incident for its
responsible team with the addresses as observables and the events as a CSV attachment.
A rule fires at most once per organization and day (RuleFiring)."""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import Count, QuerySet
from django.utils.translation import gettext as _

from certhub.audit.services import record
from certhub.feeds.digests import events_csv, summarise
from certhub.feeds.models import Event, FeedRule, RuleFiring
from certhub.feeds.selectors import enabled_rules, events_of_day, rule_fired
from certhub.incidents.services import UploadedFile, open_automatic_incident
from certhub.tenancy.models import Organization

# An incident lists at most this many addresses as observables (the CSV has them all).
MAX_OBSERVABLES = 500


def matching_events(rule: FeedRule, day: dt.date) -> QuerySet[Event]:
    """The routed events of ``day`` the rule's conditions select."""
    events = events_of_day(day).exclude(organization=None)
    if rule.taxonomies:
        events = events.filter(classification_taxonomy__in=list(rule.taxonomies))
    if rule.types:
        events = events.filter(classification_type__in=list(rule.types))
    if rule.cii_only:
        events = events.filter(is_cii=True)
    return events


def _observables(events: QuerySet[Event]) -> list[tuple[str, str]]:
    items: list[tuple[str, str]] = []
    addresses = (
        events.exclude(source_ip=None).order_by("source_ip").values_list("source_ip", flat=True)
    )
    for raw in addresses.distinct()[:MAX_OBSERVABLES]:
        try:
            version = ipaddress.ip_address(raw).version
        except ValueError:
            continue
        items.append(("ipv4" if version == 4 else "ipv6", raw))
    return items


@transaction.atomic
def fire_rule(*, rule: FeedRule, organization: Organization, day: dt.date) -> RuleFiring | None:
    """Open the rule's incident for one organization and day, once: None when it fired
    already (also when another worker records the same firing at the same time)."""
    events = matching_events(rule, day).filter(organization=organization)
    count = events.count()
    if count < max(rule.min_events, 1):
        return None
    try:
        with transaction.atomic():
            firing = RuleFiring.objects.create(
                rule=rule, organization=organization, day=day, events=count
            )
    except IntegrityError:
        return None
    summary = summarise(events)
    first = events.order_by("time_source").values_list(
        "classification_taxonomy", "classification_type"
    )[0]
    classes = ", ".join(name for name, _n in summary.by_classification)
    incident = open_automatic_incident(
        title=_("%(rule)s: %(org)s, %(day)s")
        % {"rule": rule.name, "org": organization.name, "day": day.isoformat()},
        description=_(
            'Opened by the feed rule "%(rule)s": %(n)d events of %(day)s (UTC) for '
            "%(org)s (%(classes)s). The attached CSV file lists them; the addresses are "
            "the observables."
        )
        % {
            "rule": rule.name,
            "n": count,
            "day": day.isoformat(),
            "org": organization.name,
            "classes": classes,
        },
        organization=organization,
        category=first[0],
        type=first[1],
        observables=_observables(events),
        attachments=[
            UploadedFile(
                f"feed-events-{organization.slug}-{day.isoformat()}.csv", events_csv(events)
            )
        ],
    )
    firing.incident = incident
    firing.save(update_fields=["incident"])
    record(
        actor=None,
        action="feeds.rule_fired",
        obj=firing,
        changes={
            "rule": [None, rule.name],
            "organization": [None, organization.slug],
            "day": [None, day.isoformat()],
            "incident": [None, incident.reference],
        },
    )
    return firing


@dataclass(frozen=True)
class RulesOutcome:
    rules: int
    fired: list[RuleFiring]


def apply_rules(*, day: dt.date) -> RulesOutcome:
    """Every enabled rule over the events of ``day`` (one transaction per firing)."""
    rules = list(enabled_rules())
    fired: list[RuleFiring] = []
    for rule in rules:
        counts = (
            matching_events(rule, day)
            .values_list("organization_id")
            .annotate(n=Count("pk"))
            .order_by("organization_id")
        )
        for org_id, n in counts:
            if n < max(rule.min_events, 1) or rule_fired(rule, org_id, day):
                continue
            organization = Organization.objects.select_related("responsible_team").get(pk=org_id)
            firing = fire_rule(rule=rule, organization=organization, day=day)
            if firing is not None:
                fired.append(firing)
    return RulesOutcome(len(rules), fired)
