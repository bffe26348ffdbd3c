"""The intel pages: indicator search (paste a list; defanged forms understood), one
value's timeline across incidents and feed days, and the correlation panel of the
incident page. Thin: parse, call one selector, render."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from certhub.accounts.selectors import current_user
from certhub.core.errors import Invalid
from certhub.core.http import render_page_or_fragment
from certhub.incidents.models import Incident
from certhub.incidents.selectors import Access, observables_for
from certhub.intel import selectors
from certhub.intel.correlation import KeyKind

MAX_TEXT = 200_000


@login_required
@require_http_methods(["GET", "POST"])
def search(request: HttpRequest) -> HttpResponse:
    user = current_user(request)
    if not selectors.may_search(user):
        raise Http404(_("No such page."))
    text = (request.POST.get("q") if request.method == "POST" else request.GET.get("q")) or ""
    text = text[:MAX_TEXT]
    results = selectors.search(user, text) if text.strip() else None
    context = {
        "text": text,
        "results": results,
        "staff": selectors.is_staff(user),
        "max_values": selectors.MAX_SEARCH_VALUES,
    }
    return render_page_or_fragment(request, "intel/search.html", "intel/_results.html", context)


@login_required
def value(request: HttpRequest) -> HttpResponse:
    user = current_user(request)
    if not selectors.may_search(user):
        raise Http404(_("No such page."))
    kind = request.GET.get("kind", "")[:20]
    raw = request.GET.get("value", "")[:2000]
    try:
        correlation, items = selectors.value_timeline(user, kind, raw)
    except Invalid as exc:
        return render(
            request,
            "intel/value.html",
            {"error": exc.message, "kind": kind, "raw": raw},
            status=400,
        )
    return render(
        request,
        "intel/value.html",
        {
            "correlation": correlation,
            "items": items,
            "staff": selectors.is_staff(user),
            "kind_label": KeyKind(kind).label if kind in KeyKind.values else kind,
        },
    )


def correlation_panel(user: Any, incident: Incident, access: Access) -> dict[str, Any] | None:
    """The incident page's "seen elsewhere" section (incidents.panels hook)."""
    if not selectors.may_search(user):
        return None
    observables = observables_for(incident, access)
    rows = selectors.correlations_for_incident(user, incident, observables)
    staff = selectors.is_staff(user)
    if not staff and not any(c.found for _o, c in rows):
        return None  # an organization member sees the section only when it has something
    # Staff always get the section, so it can follow changes made on the page.
    return {"rows": rows, "staff": staff, "refresh_with_page": staff}
