"""API of feeds: the events the caller may see (filtered, cursor-paginated JSON or a
streamed CSV file) and, for CERT staff, the ingest runs.

Events are read through ``feeds.selectors`` only, so the API sees exactly what the
events browser shows; an object the caller may not see answers 404."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from django.db.models import F
from django.http import HttpRequest, StreamingHttpResponse
from django.utils.translation import gettext as _
from ninja import Path, Query, Router, Schema

from certhub.accounts.selectors import current_user
from certhub.core.errors import Invalid
from certhub.core.pagination import DEFAULT_LIMIT, MAX_LIMIT, paginate
from certhub.feeds.digests import csv_lines, digest_tlp
from certhub.feeds.forms import EventFilterForm
from certhub.feeds.models import Event, IngestRun
from certhub.feeds.selectors import filter_events, get_run, runs_visible_to
from certhub.tenancy.tlp import Audience, SharePath, require_shareable

router = Router(tags=["feeds"])

SLUG_FILTER = r"^[-a-zA-Z0-9_]*$"
TEXT_FILTER = r"^[^\x00]*$"
LIMIT_HELP = f"Items per page, 1 to {MAX_LIMIT}."
CURSOR_HELP = "The `next_cursor` of the previous page; omit for the first page."


class ErrorOut(Schema):
    detail: str


class Format(StrEnum):
    JSON = "json"
    CSV = "csv"


class EventOut(Schema):
    id: int
    day: dt.date
    time_source: dt.datetime
    last_seen: dt.datetime
    count: int
    organization: str | None
    team: str | None
    sector: str | None
    is_cii: bool
    feed_name: str
    classification_taxonomy: str
    classification_type: str
    classification_identifier: str
    source_ip: str | None
    source_port: int | None
    source_asn: int | None
    source_fqdn: str | None
    extra: dict[str, Any]
    line: int


class EventPage(Schema):
    items: list[EventOut]
    next_cursor: str | None


class RunOut(Schema):
    id: int
    file_name: str
    sha256: str
    report_type: str
    feed_name: str
    status: str
    reason: str
    rows: int
    accepted: int
    duplicates: int
    rejected: int
    unrouted: int
    seconds: float
    started_at: dt.datetime
    finished_at: dt.datetime
    actor: str


class RunDetailOut(RunOut):
    rejections: list[dict[str, Any]]


class RunPage(Schema):
    items: list[RunOut]
    next_cursor: str | None


def _event(event: Event) -> dict[str, Any]:
    return {
        "id": event.pk,
        "day": event.day,
        "time_source": event.time_source,
        "last_seen": event.last_seen,
        "count": event.count,
        "organization": event.organization.slug if event.organization else None,
        "team": event.team.slug if event.team else None,
        "sector": event.sector.slug if event.sector else None,
        "is_cii": event.is_cii,
        "feed_name": event.feed_name,
        "classification_taxonomy": event.classification_taxonomy,
        "classification_type": event.classification_type,
        "classification_identifier": event.classification_identifier,
        "source_ip": event.source_ip,
        "source_port": event.source_port,
        "source_asn": event.source_asn,
        "source_fqdn": event.source_fqdn,
        "extra": event.extra if isinstance(event.extra, dict) else {},
        "line": event.line,
    }


_EVENT_SCHEMA = {"$ref": "#/components/schemas/EventPage"}


@router.get(
    "/events",
    response={200: EventPage, 400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 422: ErrorOut},
    summary="Abuse events you may see: filters, cursor pages, or the whole selection as CSV",
    openapi_extra={
        "responses": {
            200: {
                "description": "OK (JSON page, or with format=csv a CSV file)",
                "content": {
                    "application/json": {"schema": _EVENT_SCHEMA},
                    "text/csv": {"schema": {"type": "string"}},
                },
            }
        }
    },
)
def list_events(
    request: HttpRequest,
    organization: str = Query("", pattern=SLUG_FILTER, max_length=100, description="slug"),
    team: str = Query("", pattern=SLUG_FILTER, max_length=100, description="slug"),
    sector: str = Query("", pattern=SLUG_FILTER, max_length=100, description="slug"),
    feed: str = Query("", pattern=TEXT_FILTER, max_length=100, description="feed.name"),
    taxonomy: str = Query("", pattern=TEXT_FILTER, max_length=50),
    type: str = Query("", pattern=TEXT_FILTER, max_length=50),
    identifier: str = Query("", pattern=TEXT_FILTER, max_length=200),
    day: dt.date | None = None,
    day_from: dt.date | None = None,
    day_to: dt.date | None = None,
    ip: str = Query(
        "", pattern=TEXT_FILTER, max_length=50, description="an IP address or a CIDR network"
    ),
    format: Format = Format.JSON,
    limit: int = Query(DEFAULT_LIMIT, description=LIMIT_HELP),
    cursor: str | None = Query(None, description=CURSOR_HELP, pattern=TEXT_FILTER),
) -> Any:
    user = current_user(request)
    data = {
        "organization": organization,
        "team": team,
        "sector": sector,
        "feed": feed,
        "taxonomy": taxonomy,
        "type": type,
        "identifier": identifier,
        "day": day.isoformat() if day else "",
        "day_from": day_from.isoformat() if day_from else "",
        "day_to": day_to.isoformat() if day_to else "",
        "ip": ip,
    }
    form = EventFilterForm(data, user=user)
    if not form.is_valid():
        raise Invalid(form.error_text() or _("The filters are not valid."))
    events = filter_events(user, form.filters())
    if format == Format.CSV:
        # The events the visibility rules give: the caller's organization or its CERTs.
        label = digest_tlp()
        require_shareable(label, path=SharePath.CSV, audience=Audience.ORGANIZATION)
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
        response = StreamingHttpResponse(csv_lines(events), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="certhub-events-{stamp}.csv"'
        response["X-Content-Type-Options"] = "nosniff"
        response["X-Certhub-TLP"] = label
        return response
    page = paginate(
        events.select_related("organization", "team", "sector"),
        key="pk",
        limit=limit,
        cursor=cursor,
    )
    return {"items": [_event(e) for e in page.items], "next_cursor": page.next_cursor}


@router.get(
    "/feeds/runs",
    response={200: RunPage, 400: ErrorOut, 401: ErrorOut, 422: ErrorOut},
    summary="Ingest runs with their counts (CERT analysts and coordinators; newest first)",
)
def list_runs(
    request: HttpRequest,
    limit: int = Query(DEFAULT_LIMIT, description=LIMIT_HELP),
    cursor: str | None = Query(None, description=CURSOR_HELP, pattern=TEXT_FILTER),
) -> dict[str, Any]:
    runs = runs_visible_to(current_user(request))
    # Newest first on a unique key: the negated id keeps the cursor a plain "greater than".
    page = paginate(runs.annotate(sort_key=-F("pk")), key="sort_key", limit=limit, cursor=cursor)
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.get(
    "/feeds/runs/{run_id}",
    response={200: RunDetailOut, 401: ErrorOut, 404: ErrorOut, 422: ErrorOut},
    summary="One ingest run with its rejected rows and their line numbers",
)
def run_detail(request: HttpRequest, run_id: int = Path(..., ge=1, le=2**62)) -> IngestRun:
    return get_run(current_user(request), run_id)
