"""The MISP-compatible API subset under /misp/, enough for ``PyMISP('<certhub>/misp/',
token)`` (PyMISP joins paths to its root URL, so give the URL with its trailing slash):
``servers/getVersion``, ``servers/getPyMISPVersion``, ``users/view/me``,
``attributes/describeTypes``, ``events/add``, ``events/view/<id>``,
``events/restSearch`` and ``attributes/restSearch`` (value, type, tags, timestamp).

Events are incidents and attributes their observables, as the caller may see them, each
checked against its TLP label for the MISP path (``tenancy.tlp.sharing_refusal``). The
key is the caller's API token, sent raw in ``Authorization`` as PyMISP does (``Bearer``
and Basic work too). A bad key answers 403 as MISP does; an event the caller may not
see answers 404."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from certhub.accounts.selectors import current_user
from certhub.core.errors import CerthubError, Invalid, NotFound
from certhub.incidents.choices import ObservableKind
from certhub.intel import exchange_selectors as selectors
from certhub.intel import exchange_services as services
from certhub.intel import misp
from certhub.intel.machine_auth import machine_user
from certhub.tenancy.selectors import memberships_of
from certhub.tenancy.tlp import TLP, SharePath

MISP_COMPATIBLE_VERSION = "2.5.0"
# The deepest page restSearch answers: beyond it, the offset itself is the cost.
MAX_PAGE = 10_000


def _error(request: HttpRequest, status: int, message: str) -> JsonResponse:
    return JsonResponse(
        {"name": message, "message": message, "url": request.path, "errors": message},
        status=status,
    )


def misp_endpoint(methods: tuple[str, ...]) -> Callable[..., Any]:
    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @csrf_exempt
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method not in (*methods, "HEAD" if "GET" in methods else ""):
                return _error(request, 405, _("Method not allowed."))
            user = machine_user(request, raw_key=True)
            if user is None:
                return _error(request, 403, _("Authentication failed. Send your API key."))
            request.user = user
            try:
                return view(request, *args, **kwargs)
            except CerthubError as exc:
                return _error(request, exc.status, exc.message)

        return wrapper

    return decorate


def _body(request: HttpRequest) -> Any:
    if not request.body:
        return {}
    try:
        return json.loads(request.body)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise Invalid(_("The body is not valid JSON.")) from exc


@misp_endpoint(("GET",))
def get_version(request: HttpRequest) -> HttpResponse:
    return JsonResponse(
        {
            "version": MISP_COMPATIBLE_VERSION,
            "pymisp_recommended_version": MISP_COMPATIBLE_VERSION,
            "perm_sync": False,
            "perm_sighting": False,
            "perm_galaxy_editor": False,
            "request_encoding": [],
            "filter_sightings": False,
        }
    )


@misp_endpoint(("GET",))
def get_pymisp_version(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"version": MISP_COMPATIBLE_VERSION})


@misp_endpoint(("GET",))
def user_me(request: HttpRequest) -> HttpResponse:
    user = current_user(request)
    teams, orgs = memberships_of(user)
    home = teams[0].team if teams else (orgs[0].organization if orgs else None)
    can_write = any(m.role in ("coordinator", "analyst") for m in teams) or bool(orgs)
    return JsonResponse(
        {
            "User": {
                "id": str(user.pk),
                "email": user.email,
                "org_id": str(home.pk) if home else "0",
                "role_id": "3" if can_write else "6",
                "disabled": not user.is_active,
                "autoalert": False,
                "contactalert": False,
                "termsaccepted": True,
                "change_pw": False,
                "last_login": str(int(user.last_login.timestamp())) if user.last_login else "0",
                "date_created": str(int(user.date_joined.timestamp())),
            },
            "Role": {
                "id": "3" if can_write else "6",
                "name": "User" if can_write else "Read Only",
                "perm_add": can_write,
                "perm_modify": can_write,
                "perm_modify_org": False,
                "perm_publish": False,
                "perm_sync": False,
                "perm_admin": False,
                "perm_site_admin": False,
                "perm_auth": True,
                "perm_tagger": can_write,
                "perm_tag_editor": False,
                "perm_sighting": False,
                "perm_object_template": False,
                "perm_template": False,
                "perm_sharing_group": False,
                "perm_galaxy_editor": False,
                "perm_regexp_access": False,
                "perm_decaying": False,
                "perm_delegate": False,
                "default_role": False,
            },
            "UserSetting": {},
            "Organisation": {
                "id": str(home.pk) if home else "0",
                "name": str(home.name) if home else "",
            },
        }
    )


@misp_endpoint(("GET",))
def describe_types(request: HttpRequest) -> HttpResponse:
    mappings: dict[str, list[str]] = {}
    defaults: dict[str, dict[str, Any]] = {}
    for kind, (misp_type, category) in misp.MISP_TYPES.items():
        mappings.setdefault(category, [])
        if misp_type not in mappings[category]:
            mappings[category].append(misp_type)
        defaults[misp_type] = {
            "default_category": category,
            "to_ids": 0 if kind in (ObservableKind.CVE, ObservableKind.FILENAME) else 1,
        }
    return JsonResponse(
        {
            "result": {
                "categories": sorted(mappings),
                "types": sorted(defaults),
                "category_type_mappings": mappings,
                "sane_defaults": defaults,
            }
        }
    )


def _event_out(request: HttpRequest, reference: str) -> dict[str, Any]:
    export = selectors.incident_export(request.user, reference, path=SharePath.MISP)
    if export.refusal:
        raise NotFound(export.refusal)
    return {"Event": misp.event(export.incident, export.observables)}


@misp_endpoint(("POST",))
def event_add(request: HttpRequest) -> HttpResponse:
    plan = misp.plan_event(_body(request))
    report = services.import_plan(actor=request.user, plan=plan, title=plan.title)
    return JsonResponse(_event_out(request, report.incident.reference))


@misp_endpoint(("GET",))
def event_view(request: HttpRequest, event_id: str) -> HttpResponse:
    incident = selectors.incident_by_event_id(request.user, event_id)
    body = _event_out(request, incident.reference)
    if request.method == "HEAD":
        return HttpResponse(status=200)
    return JsonResponse(body)


# --- restSearch ----------------------------------------------------------------------

_RELATIVE = re.compile(r"^(\d{1,6})([smhdw])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def _moment(raw: Any) -> dt.datetime | None:
    if raw in (None, "", 0, "0"):
        return None
    text = str(raw).strip()
    match = _RELATIVE.match(text)
    if match:
        return timezone.now() - dt.timedelta(seconds=int(match[1]) * _UNITS[match[2]])
    if re.fullmatch(r"\d{1,12}(\.\d{1,9})?", text):
        try:
            return dt.datetime.fromtimestamp(float(text), tz=dt.UTC)
        except (ValueError, OverflowError, OSError) as exc:
            raise Invalid(_("timestamp is out of range.")) from exc
    raise Invalid(_("timestamp must be a Unix time or a span such as 7d."))


def _search_filters(body: Any) -> selectors.MispSearch:
    if not isinstance(body, dict):
        raise Invalid(_("Send the search as a JSON object."))
    if body.get("returnFormat", "json") not in ("json", None):
        raise Invalid(_("Only returnFormat json is offered."))

    def strings(name: str) -> list[str]:
        raw = body.get(name)
        if raw is None or raw == "":
            return []
        values = raw if isinstance(raw, list) else [raw]
        if len(values) > 500:
            raise Invalid(_("Too many values in %(name)s.") % {"name": name})
        return [str(v)[:2000] for v in values if v not in (None, "")]

    stamp = body.get("timestamp")
    since = until = None
    if isinstance(stamp, list | tuple) and len(stamp) == 2:
        since, until = _moment(stamp[0]), _moment(stamp[1])
    elif stamp is not None:
        since = _moment(stamp)
    limit, page = body.get("limit"), body.get("page")
    try:
        limit_n = min(max(int(limit), 1), 1000) if limit not in (None, "") else 100
        page_n = max(int(page), 1) if page not in (None, "") else 1
    except (TypeError, ValueError, OverflowError) as exc:
        raise Invalid(_("limit and page must be numbers.")) from exc
    if page_n > MAX_PAGE:
        raise Invalid(_("page must be at most %(most)d.") % {"most": MAX_PAGE})
    event_ids = strings("eventid")
    return selectors.MispSearch(
        values=strings("value"),
        types=strings("type"),
        tags=strings("tags"),
        since=since,
        until=until,
        event_ids=event_ids,
        limit=limit_n,
        page=page_n,
    )


@misp_endpoint(("POST",))
def events_search(request: HttpRequest) -> HttpResponse:
    found = selectors.misp_search(request.user, _search_filters(_body(request)))
    return JsonResponse(
        {"response": [{"Event": misp.event(hit.incident, hit.observables)} for hit in found]}
    )


@misp_endpoint(("POST",))
def attributes_search(request: HttpRequest) -> HttpResponse:
    found = selectors.misp_search(request.user, _search_filters(_body(request)), attributes=True)
    attributes = []
    for hit in found:
        summary = {
            "id": str(hit.incident.pk),
            "uuid": misp.event_uuid(hit.incident),
            "info": f"{hit.incident.reference} {hit.incident.title}"[:300],
            "org_id": str(hit.incident.handling_team_id),
            "orgc_id": str(hit.incident.handling_team_id),
            "distribution": misp.DISTRIBUTION[TLP(hit.incident.tlp)],
        }
        for observable in hit.observables:
            attributes.append(misp.attribute(hit.incident, observable) | {"Event": summary})
    return JsonResponse({"response": {"Attribute": attributes}})
