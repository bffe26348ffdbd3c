"""API of the correlation index: where an incident's indicators were seen elsewhere,
and indicator search (paste a list; defanged forms understood).

The rules are the selectors' (``certhub.intel.selectors``): CERT staff get counts over
the whole constituency and links to what they may open; organization members only what
they may see anyway; TLP:RED is neither shown nor counted beyond its named recipients.
An incident the caller may not see answers 404 like one that does not exist."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Path, Router, Schema

from certhub.accounts.selectors import current_user
from certhub.core.errors import NotFound
from certhub.incidents.selectors import (
    REFERENCE_PATTERN,
    access_for,
    get_incident,
    observables_for,
)
from certhub.intel import selectors
from certhub.intel.selectors import Correlation

router = Router(tags=["intel"])


class ErrorOut(Schema):
    detail: str


READ_ERRORS = {401: ErrorOut, 404: ErrorOut, 422: ErrorOut}
# A body that does not parse answers 400.
SEARCH_ERRORS = {400: ErrorOut, **READ_ERRORS}
REF = Path(..., pattern=REFERENCE_PATTERN, description="e.g. CERT-2026-000123")


class SeenInOut(Schema):
    reference: str
    title: str
    status: str
    reported_at: dt.datetime
    kind: str = Field(description="The matching value's index type (ip, cidr, domain, url...)")
    value: str = Field(description="The matching value as stored there")
    via: str = Field(description="exact, parent (domain), network, inside, host (URL host)")


class FeedDayOut(Schema):
    day: dt.date
    events: int
    organization: str
    sector: str
    value: str
    via: str


class CorrelationOut(Schema):
    kind: str
    value: str
    incidents: int = Field(description="Other incidents holding the value (RED left out)")
    organizations: int = Field(description="Organizations of those incidents")
    sectors: int = Field(description="Sectors of those organizations")
    feed_events: int
    common: bool = Field(description="Too common to link (over the correlation cap)")
    widespread: bool
    hidden_incidents: int = Field(description="Counted incidents you may not open")
    seen_in: list[SeenInOut] = Field(description="Incidents you may open")
    feed_days: list[FeedDayOut] = Field(description="Feed days you may see")


class IncidentCorrelationsOut(Schema):
    reference: str
    correlations: list[CorrelationOut]


class SearchIn(Schema):
    text: str = Field(
        ...,
        max_length=200_000,
        description="Indicators in any text, defanged forms understood (hxxp, [.], (at)); "
        "at most 500 are read.",
    )


class SearchOut(Schema):
    results: list[CorrelationOut]


def _out(correlation: Correlation) -> dict[str, Any]:
    return {
        "kind": correlation.indicator.kind,
        "value": correlation.indicator.value,
        "incidents": correlation.incidents,
        "organizations": correlation.organizations,
        "sectors": correlation.sectors,
        "feed_events": correlation.feed_events,
        "common": correlation.common,
        "widespread": correlation.widespread,
        "hidden_incidents": correlation.hidden_incidents,
        "seen_in": [vars(s) for s in correlation.seen_in],
        "feed_days": [vars(f) for f in correlation.feed_days],
    }


@router.get(
    "/incidents/{reference}/correlations",
    response={200: IncidentCorrelationsOut, **READ_ERRORS},
    summary="Where the incident's indicators were seen elsewhere (incidents and feed events)",
    description="One entry per observable you may see on the incident. Incidents you may "
    "not open are counted (CERT staff), never named.",
)
def incident_correlations(request: HttpRequest, reference: str = REF) -> dict[str, Any]:
    user = current_user(request)
    incident = get_incident(user, reference)
    access = access_for(user, incident)
    rows = selectors.correlations_for_incident(user, incident, observables_for(incident, access))
    return {"reference": incident.reference, "correlations": [_out(c) for _o, c in rows]}


@router.post(
    "/intel/search",
    response={200: SearchOut, **SEARCH_ERRORS},
    summary="Look indicators up: every sighting you may see of each",
)
def search(request: HttpRequest, payload: SearchIn) -> dict[str, Any]:
    user = current_user(request)
    if not selectors.may_search(user):
        raise NotFound(_("Indicator search is for CERT staff and organization members."))
    return {"results": [_out(c) for c in selectors.search(user, payload.text)]}
