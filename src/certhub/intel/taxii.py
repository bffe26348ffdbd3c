"""The TAXII 2.1 server under /taxii2/ (OASIS TAXII 2.1, sections 4 and 5): discovery,
one API root (``api``), its collections, their objects (with ``limit``/``next``/``more``
pagination, ``added_after`` and ``match[...]`` filters), manifest, versions, envelopes
posted with a status resource. Every answer is ``application/taxii+json;version=2.1``;
another Accept is answered 406 and another request Content-Type 415. Clients
authenticate with an API token or HTTP Basic (``machine_auth``); a collection the caller
may not read answers 404, one it may read but not write answers 403 to a POST."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from certhub.core.errors import CerthubError, Invalid, NotFound
from certhub.intel import exchange_selectors as selectors
from certhub.intel import exchange_services as services
from certhub.intel.exchange_models import SharedObject
from certhub.intel.machine_auth import machine_user

TAXII_MEDIA_TYPE = "application/taxii+json;version=2.1"
API_ROOT = "api"
MAX_PAGE = 1000
# What Django reads into memory for one request body (DATA_UPLOAD_MAX_MEMORY_SIZE).
MAX_CONTENT_LENGTH = int(getattr(settings, "DATA_UPLOAD_MAX_MEMORY_SIZE", None) or 2_621_440)


def _stamp(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def taxii_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Any:
    response = HttpResponse(
        json.dumps(data, separators=(",", ":")), status=status, content_type=TAXII_MEDIA_TYPE
    )
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def _error(status: int, title: str, description: str = "") -> HttpResponse:
    body = {"title": title, "http_status": str(status)}
    if description:
        body["description"] = description
    response = taxii_response(body, status=status)
    if status == 401:
        response["WWW-Authenticate"] = 'Basic realm="certhub TAXII", Bearer'
    return response


def _accepts_taxii(request: HttpRequest) -> bool:
    accept = request.headers.get("Accept", "")
    for part in accept.split(","):
        tokens = [t.strip().lower() for t in part.split(";")]
        if tokens[0] != "application/taxii+json":
            continue
        versions = [t for t in tokens[1:] if t.startswith("version=")]
        if not versions or "version=2.1" in versions:
            return True
    return False


def taxii_endpoint(methods: tuple[str, ...]) -> Callable[..., Any]:
    """Content negotiation, authentication and errors of every TAXII endpoint."""

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @csrf_exempt
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method not in methods:
                response = _error(405, _("Method not allowed"))
                response["Allow"] = ", ".join(methods)
                return response
            user = machine_user(request)
            if user is None:
                return _error(401, _("Authentication required"), _("Send a token or Basic."))
            request.user = user
            if not _accepts_taxii(request):
                return _error(406, _("Not acceptable"), _("Accept %s.") % TAXII_MEDIA_TYPE)
            if request.method == "POST":
                content_type = request.headers.get("Content-Type", "").replace(" ", "").lower()
                if content_type != TAXII_MEDIA_TYPE:
                    return _error(
                        415, _("Unsupported media type"), _("Send %s.") % TAXII_MEDIA_TYPE
                    )
            try:
                return view(request, *args, **kwargs)
            except NotFound as exc:
                return _error(404, _("Not found"), exc.message)
            except CerthubError as exc:
                return _error(exc.status, _("Request refused"), exc.message)

        return wrapper

    return decorate


def _root_url(request: HttpRequest) -> str:
    return request.build_absolute_uri(reverse("taxii:api_root", args=[API_ROOT]))


@taxii_endpoint(("GET",))
def discovery(request: HttpRequest) -> HttpResponse:
    return taxii_response(
        {
            "title": _("certhub TAXII 2.1 server"),
            "description": _("Indicators shared by the CERTs of the national CERT system."),
            "contact": getattr(settings, "DEFAULT_FROM_EMAIL", ""),
            "default": _root_url(request),
            "api_roots": [_root_url(request)],
        }
    )


def _check_root(api_root: str) -> None:
    if api_root != API_ROOT:
        raise NotFound(_("No such API root."))


@taxii_endpoint(("GET",))
def api_root(request: HttpRequest, api_root: str) -> HttpResponse:
    _check_root(api_root)
    return taxii_response(
        {
            "title": _("certhub indicators"),
            "description": _("Collections per CERT, per sector and the national one."),
            "versions": [TAXII_MEDIA_TYPE],
            "max_content_length": MAX_CONTENT_LENGTH,
        }
    )


def _collection_resource(access: selectors.CollectionAccess) -> dict[str, Any]:
    collection = access.collection
    return {
        "id": str(collection.pk),
        "title": collection.title,
        "description": collection.description,
        "alias": f"{collection.kind}-{(collection.sector or collection.team).slug}",
        "can_read": access.can_read,
        "can_write": access.can_write,
        "media_types": ["application/stix+json;version=2.1"],
    }


@taxii_endpoint(("GET",))
def collections(request: HttpRequest, api_root: str) -> HttpResponse:
    _check_root(api_root)
    readable = selectors.collections_readable_by(request.user)
    body: dict[str, Any] = {}
    if readable:
        body["collections"] = [_collection_resource(a) for a in readable]
    return taxii_response(body)


@taxii_endpoint(("GET",))
def collection(request: HttpRequest, api_root: str, collection_id: str) -> HttpResponse:
    _check_root(api_root)
    return taxii_response(
        _collection_resource(selectors.get_collection(request.user, collection_id))
    )


# --- Objects ------------------------------------------------------------------------


def _timestamp(raw: str, name: str) -> dt.datetime:
    try:
        parsed = parse_datetime(raw.strip()) if raw and len(raw) < 64 else None
    except ValueError:  # well formed but impossible (month 13)
        parsed = None
    if parsed is None:
        raise Invalid(_("%(name)s must be a timestamp.") % {"name": name})
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _list(request: HttpRequest, name: str) -> tuple[str, ...]:
    raw = request.GET.get(name, "")
    values = tuple(v.strip() for v in raw.split(",") if v.strip())
    if len(values) > 100 or any(len(v) > 130 for v in values):
        raise Invalid(_("Too many or too long values in %(name)s.") % {"name": name})
    return values


def _filters(request: HttpRequest, *, versions_default: tuple[str, ...]) -> selectors.ObjectFilter:
    added_after = request.GET.get("added_after")
    keywords = ("last", "first", "all")
    versions = tuple(
        v if v in keywords else _timestamp(v, "match[version]")
        for v in _list(request, "match[version]") or versions_default
    )
    return selectors.ObjectFilter(
        added_after=_timestamp(added_after, "added_after") if added_after else None,
        ids=_list(request, "match[id]"),
        types=_list(request, "match[type]"),
        versions=versions,
        spec_versions=_list(request, "match[spec_version]"),
    )


def _limit(request: HttpRequest) -> int:
    raw = request.GET.get("limit", "")
    if not raw:
        return MAX_PAGE
    if not raw.isdigit() or int(raw) < 1:
        raise Invalid(_("limit must be a positive number."))
    return min(int(raw), MAX_PAGE)


def _encode_next(row: SharedObject) -> str:
    text = json.dumps([row.date_added.isoformat(), row.pk])
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _decode_next(raw: str) -> tuple[dt.datetime, int]:
    try:
        stamp, pk = json.loads(base64.urlsafe_b64decode((raw + "=" * (-len(raw) % 4)).encode()))
        when = parse_datetime(stamp)
        if when is None or not isinstance(pk, int) or isinstance(pk, bool) or not 0 < pk < 2**63:
            raise ValueError(raw)
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError) as exc:
        raise Invalid(_("next is not valid; start again from the first page.")) from exc
    return when, pk


def _page(request: HttpRequest, rows: Any) -> tuple[list[SharedObject], str | None]:
    from django.db.models import Q

    limit = _limit(request)
    cursor = request.GET.get("next")
    if cursor:
        when, pk = _decode_next(cursor)
        rows = rows.filter(Q(date_added__gt=when) | Q(date_added=when, id__gt=pk))
    found = list(rows[: limit + 1])
    if len(found) > limit:
        found = found[:limit]
        return found, _encode_next(found[-1])
    return found, None


def _added_headers(rows: list[SharedObject]) -> dict[str, str]:
    if not rows:
        return {}
    return {
        "X-TAXII-Date-Added-First": _stamp(rows[0].date_added),
        "X-TAXII-Date-Added-Last": _stamp(rows[-1].date_added),
    }


def _envelope(rows: list[SharedObject], cursor: str | None, key: str, item: Callable[..., Any]):
    body: dict[str, Any] = {"more": cursor is not None}
    if cursor:
        body["next"] = cursor
    if rows:
        body[key] = [item(row) for row in rows]
    return taxii_response(body, headers=_added_headers(rows))


@taxii_endpoint(("GET", "POST"))
def objects(request: HttpRequest, api_root: str, collection_id: str) -> HttpResponse:
    _check_root(api_root)
    access = selectors.get_collection(request.user, collection_id)
    if request.method == "POST":
        if not access.can_write:
            return _error(403, _("Forbidden"), _("You may not add objects to this collection."))
        try:
            declared = int(request.headers.get("Content-Length") or 0)
        except ValueError:
            return _error(400, _("Bad request"), _("Content-Length is not a number."))
        if declared > MAX_CONTENT_LENGTH:
            return _error(413, _("Too large"), _("At most %d bytes.") % MAX_CONTENT_LENGTH)
        try:
            envelope = json.loads(request.body or b"null")
        except (ValueError, UnicodeDecodeError, RecursionError):
            return _error(400, _("Bad request"), _("The body is not valid JSON."))
        status = services.add_envelope(
            actor=request.user, collection=access.collection, envelope=envelope
        )
        return taxii_response(_status_resource(status), status=202)
    rows, cursor = _page(
        request, selectors.objects_readable(access, _filters(request, versions_default=("last",)))
    )
    return _envelope(rows, cursor, "objects", lambda row: row.body)


@taxii_endpoint(("GET",))
def manifest(request: HttpRequest, api_root: str, collection_id: str) -> HttpResponse:
    _check_root(api_root)
    access = selectors.get_collection(request.user, collection_id)
    rows, cursor = _page(
        request, selectors.objects_readable(access, _filters(request, versions_default=("last",)))
    )
    return _envelope(
        rows,
        cursor,
        "objects",
        lambda row: {
            "id": row.stix_id,
            "date_added": _stamp(row.date_added),
            "version": _stamp(row.version),
            "media_type": row.media_type,
        },
    )


@taxii_endpoint(("GET",))
def object_detail(
    request: HttpRequest, api_root: str, collection_id: str, object_id: str
) -> HttpResponse:
    _check_root(api_root)
    access = selectors.get_collection(request.user, collection_id)
    base = selectors.objects_readable(access, _filters(request, versions_default=("last",))).filter(
        stix_id=object_id[:120]
    )
    rows, cursor = _page(request, base)
    if not rows and not cursor and not request.GET.get("next"):
        raise NotFound(_("No such object."))
    return _envelope(rows, cursor, "objects", lambda row: row.body)


@taxii_endpoint(("GET",))
def object_versions(
    request: HttpRequest, api_root: str, collection_id: str, object_id: str
) -> HttpResponse:
    _check_root(api_root)
    access = selectors.get_collection(request.user, collection_id)
    filters = _filters(request, versions_default=("all",))
    base = selectors.objects_readable(access, filters).filter(stix_id=object_id[:120])
    rows, cursor = _page(request, base.order_by("date_added", "id"))
    if not rows and not request.GET.get("next"):
        raise NotFound(_("No such object."))
    return _envelope(rows, cursor, "versions", lambda row: _stamp(row.version))


def _status_resource(status: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": str(status.pk),
        "status": status.status,
        "request_timestamp": _stamp(status.request_timestamp),
        "total_count": status.total_count,
        "success_count": status.success_count,
        "failure_count": status.failure_count,
        "pending_count": status.pending_count,
    }
    if status.successes:
        body["successes"] = status.successes
    if status.failures:
        body["failures"] = status.failures
    return body


@taxii_endpoint(("GET",))
def status(request: HttpRequest, api_root: str, status_id: str) -> HttpResponse:
    _check_root(api_root)
    return taxii_response(_status_resource(selectors.get_status(request.user, status_id)))
