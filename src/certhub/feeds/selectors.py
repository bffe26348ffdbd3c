"""Every read of feed data, scoped by the visibility rules (DESIGN.md section 3).

Events:
- a platform admin sees every event, routed or not;
- a team member sees the events routed to organizations whose responsible team is its
  team or below it;
- an organization member sees its own organizations' events;
- a Council member sees none (aggregates come from the statistics, not from events);
- anyone else sees none.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from certhub.core.errors import NotFound
from certhub.feeds.models import Event, IngestRun
from certhub.tenancy.assets import normalise_cidr
from certhub.tenancy.visibility import scope_for


def events_visible_to(user: Any) -> QuerySet[Event]:
    scope = scope_for(user)
    events = Event.objects.all()
    if scope.is_admin:
        return events
    if not scope.is_authenticated:
        return events.none()
    condition = scope.subtree_q("organization__responsible_team")
    if scope.org_ids:
        condition |= Q(organization_id__in=sorted(scope.org_ids))
    return events.filter(condition)


def get_event(user: Any, pk: int) -> Event:
    event = events_visible_to(user).filter(pk=pk).first()
    if event is None:
        raise NotFound(_("No such event."))
    return event


def events_in_network(user: Any, cidr: str) -> QuerySet[Event]:
    """Visible events whose source address lies in ``cidr`` (IPv4 or IPv6): one index
    range scan on the address key."""
    network = normalise_cidr(cidr)
    return events_visible_to(user).filter(
        source_ip_key__gte=network.range_start, source_ip_key__lte=network.range_end
    )


def runs_visible_to(user: Any) -> QuerySet[IngestRun]:
    """Ingest runs are operations data: platform admins only (the national CERT runs
    feeds through the command line and the worker)."""
    scope = scope_for(user)
    return IngestRun.objects.all() if scope.is_admin else IngestRun.objects.none()
