"""The feeds pages: the events browser (scoped by visibility), uploading a report file
(CERT analysts and coordinators) and the ingest runs with their rejected rows.

Thin views: parse the request, call one selector or service, render. What a user may
not see is a 404 page, like what does not exist."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from certhub.core.http import not_found_as_404, render_page_or_fragment
from certhub.feeds import services
from certhub.feeds.forms import EventFilterForm, UploadForm
from certhub.feeds.selectors import can_ingest, filter_events, get_run, runs_visible_to

EVENTS_PER_PAGE = 50
RUNS_PER_PAGE = 50


def _before(request: HttpRequest) -> int | None:
    raw = request.GET.get("before", "")
    return int(raw) if raw.isdigit() and len(raw) < 19 else None


@login_required
def events(request: HttpRequest) -> HttpResponse:
    """Newest first, a page at a time (a keyset on the id, no counting of millions)."""
    form = EventFilterForm(request.GET or None, user=request.user)
    if form.is_bound:
        form.is_valid()
    rows = filter_events(request.user, form.filters()).select_related(
        "organization", "team", "sector"
    )
    before = _before(request)
    if before is not None:
        rows = rows.filter(pk__lt=before)
    page = list(rows.order_by("-pk")[: EVENTS_PER_PAGE + 1])
    more = len(page) > EVENTS_PER_PAGE
    page = page[:EVENTS_PER_PAGE]
    query = request.GET.copy()
    query.pop("before", None)
    context = {
        "form": form,
        "events": page,
        "next_before": page[-1].pk if more else None,
        "filter_query": query.urlencode(),
        "first_page": before is None,
        "can_ingest": can_ingest(request.user),
    }
    return render_page_or_fragment(request, "feeds/events.html", "feeds/_event_table.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def upload(request: HttpRequest) -> HttpResponse:
    if not can_ingest(request.user):
        raise Http404
    form = UploadForm(request.POST or None, request.FILES or None)
    outcome = None
    if request.method == "POST" and form.is_valid():
        upload_file = form.cleaned_data["file"]
        with tempfile.TemporaryDirectory(prefix="certhub-upload-") as folder:
            path = Path(folder) / "upload"
            with path.open("wb") as handle:
                for chunk in upload_file.chunks():
                    handle.write(chunk)
            outcome = services.ingest_file(
                path=path,
                actor=request.user,
                name=Path(upload_file.name or "upload.csv").name,
                report_type=form.cleaned_data.get("report_type") or None,
            )
        form = UploadForm()
    run = outcome.run if outcome is not None else None
    visible_run = run is not None and runs_visible_to(request.user).filter(pk=run.pk).exists()
    return render(
        request,
        "feeds/upload.html",
        {"form": form, "outcome": outcome, "run": run, "run_visible": visible_run},
        status=400 if form.errors else 200,
    )


@login_required
def runs(request: HttpRequest) -> HttpResponse:
    if not can_ingest(request.user):
        raise Http404
    page = Paginator(runs_visible_to(request.user), RUNS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "feeds/runs.html", {"page": page})


@login_required
@not_found_as_404
def run_detail(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_run(request.user, pk)
    return render(request, "feeds/run_detail.html", {"run": run})


def shown_in_navigation(user: Any) -> bool:
    from certhub.tenancy.visibility import scope_for

    if not user.is_authenticated:
        return False
    scope = scope_for(user)
    return scope.is_admin or bool(scope.teams) or bool(scope.org_ids)
