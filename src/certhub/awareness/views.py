"""The dashboards (national, team, organization, Council), their plots as SVG files and
their numbers as CSV or XLSX, and the national reports.

Thin views: parse the filters, reach the dashboard through the selectors (which decide
who sees what), render. What a user may not see is a 404 page, like what does not
exist. Plots are separate SVG responses shown with ``<img>``: our pages carry no inline
style; the SVG responses get their own narrow policy (matplotlib styles its elements
inline, and nothing in an SVG shown as an image can run)."""

from __future__ import annotations

import hashlib
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.csp import CSP
from django.utils.http import urlencode
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.csp import csp_override
from django.views.decorators.http import require_GET, require_http_methods

from certhub.awareness import plots, reports, selectors
from certhub.awareness.models import NationalReport
from certhub.core.errors import Invalid, NotFound
from certhub.core.http import not_found_as_404

PLOT_CACHE_SECONDS = 300
SVG_POLICY = {"default-src": [CSP.NONE], "style-src": [CSP.UNSAFE_INLINE]}


def _filters(request: HttpRequest) -> selectors.Filters:
    return selectors.Filters.parse(
        start=request.GET.get("start"),
        end=request.GET.get("end"),
        sector=request.GET.get("sector"),
        team=request.GET.get("team"),
    )


def _base(reach: selectors.Reach) -> str:
    if reach.key:
        return reverse("awareness:dashboard_of", args=[reach.audience, reach.key])
    return reverse("awareness:dashboard", args=[reach.audience])


@login_required
@require_GET
@not_found_as_404
def index(request: HttpRequest) -> HttpResponse:
    """The dashboards the user may open; straight to the only one when there is one."""
    reaches = selectors.dashboards_for(request.user)
    if not reaches:
        raise NotFound(_("No dashboard."))
    if len(reaches) == 1:
        return redirect(_base(reaches[0]))
    return render(
        request,
        "awareness/index.html",
        {"dashboards": [(r, _base(r)) for r in reaches]},
    )


@login_required
@require_GET
@not_found_as_404
def dashboard(request: HttpRequest, audience: str, key: str = "") -> HttpResponse:
    reach = selectors.reach_for(request.user, audience, key)
    error = ""
    try:
        filters = _filters(request)
        tables = selectors.dashboard_tables(request.user, reach, filters)
    except (Invalid, NotFound) as exc:
        # A filter the user may not use (a foreign team) or cannot (a bad date): say so,
        # and show the default view.
        error = exc.message
        filters = selectors.Filters.parse()
        tables = selectors.dashboard_tables(request.user, reach, filters)
    base = _base(reach)
    query = urlencode(filters.query())
    sectors, teams = selectors.filter_choices(request.user, reach)
    return render(
        request,
        "awareness/dashboard.html",
        {
            "reach": reach,
            "filters": filters,
            "error": error,
            "figures": [
                {
                    "table": table,
                    "plot": f"{base}plots/{table.name}.svg?{query}" if table.chart else "",
                    "data": f"{base}data/{table.name}.csv?{query}",
                }
                for table in tables
            ],
            "xlsx": f"{base}export.xlsx?{query}",
            "sectors": sectors,
            "teams": teams,
            "refreshed_at": selectors.rollups_refreshed_at(),
            "reports_url": reverse("awareness:reports")
            if selectors.report_editions_for(request.user)
            else "",
        },
    )


def _table_or_error(request: HttpRequest, audience: str, key: str, name: str) -> Any:
    reach = selectors.reach_for(request.user, audience, key)
    try:
        filters = _filters(request)
        return reach, filters, selectors.dashboard_table(request.user, reach, filters, name)
    except Invalid as exc:
        return reach, None, HttpResponseBadRequest(exc.message, content_type="text/plain")


@login_required
@require_GET
@not_found_as_404
@csp_override(SVG_POLICY)
def plot(request: HttpRequest, audience: str, name: str, key: str = "") -> HttpResponse:
    """One figure as SVG, cached under the rollups' version (and per user: some figures
    depend on what the user may read)."""
    reach = selectors.reach_for(request.user, audience, key)
    try:
        filters = _filters(request)
    except Invalid as exc:
        return HttpResponseBadRequest(exc.message, content_type="text/plain")
    if name not in selectors.table_names(reach.audience):
        raise NotFound(_("This dashboard has no such figure."))
    parts = [
        reach.audience,
        reach.key,
        name,
        repr(sorted(filters.query().items())),
        selectors.rollup_version(),
        get_language() or "",
        str(request.user.pk),
    ]
    cache_key = "awareness:svg:" + hashlib.sha256("|".join(parts).encode()).hexdigest()
    svg = cache.get(cache_key)
    if svg is None:
        try:
            table = selectors.dashboard_table(request.user, reach, filters, name)
        except Invalid as exc:
            return HttpResponseBadRequest(exc.message, content_type="text/plain")
        if not table.chart:
            raise NotFound(_("This figure is a table only."))
        svg = plots.render_svg(table)
        cache.set(cache_key, svg, PLOT_CACHE_SECONDS)
    response = HttpResponse(svg, content_type="image/svg+xml")
    response["Cache-Control"] = "private, max-age=60"
    return response


@login_required
@require_GET
@not_found_as_404
def data(request: HttpRequest, audience: str, name: str, key: str = "") -> HttpResponse:
    """The numbers of one figure as CSV."""
    _reach, _unused, table = _table_or_error(request, audience, key, name)
    if isinstance(table, HttpResponse):
        return table
    response = HttpResponse(reports.table_csv(table), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    return response


@login_required
@require_GET
@not_found_as_404
def export(request: HttpRequest, audience: str, key: str = "") -> HttpResponse:
    """Every table of the dashboard, one sheet each."""
    reach = selectors.reach_for(request.user, audience, key)
    try:
        tables = selectors.dashboard_tables(request.user, reach, _filters(request))
    except Invalid as exc:
        return HttpResponseBadRequest(exc.message, content_type="text/plain")
    response = HttpResponse(
        reports.tables_xlsx(tables, title=reach.title),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    filename = f"{reach.audience}{'-' + reach.key if reach.key else ''}.xlsx"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# --- Reports ----------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
@not_found_as_404
def report_list(request: HttpRequest) -> HttpResponse:
    """The stored national reports the user's role may read; National CERT coordinators
    ask for a new one here (generated by the task worker)."""
    if not selectors.report_editions_for(request.user):
        raise NotFound(_("No reports."))
    may_generate = selectors.may_generate_reports(request.user)
    if request.method == "POST":
        if not may_generate:
            raise NotFound(_("No reports."))
        period = request.POST.get("period", "")
        edition = request.POST.get("edition", "")
        month = request.POST.get("month", "").strip() or None
        try:
            if edition not in NationalReport.Edition.values:
                raise Invalid(_("The edition is national or council."))
            reports.period_bounds(period, month)
        except Invalid as exc:
            messages.error(request, exc.message)
        else:
            from certhub.awareness.tasks import generate_report

            generate_report.enqueue(
                period=period, edition=edition, month=month, user_id=request.user.pk
            )
            messages.success(
                request, _("The report is being generated; it appears here once ready.")
            )
        return redirect("awareness:reports")
    return render(
        request,
        "awareness/reports.html",
        {
            "reports": selectors.reports_visible_to(request.user)[:200],
            "may_generate": may_generate,
            "periods": NationalReport.Period.choices,
            "editions": NationalReport.Edition.choices,
        },
    )


@login_required
@require_GET
@not_found_as_404
def report_download(request: HttpRequest, pk: int) -> HttpResponse:
    report = selectors.get_report(request.user, pk)
    try:
        with report.pdf.open("rb") as stored:
            response = HttpResponse(stored.read(), content_type="application/pdf")
    except OSError as exc:  # listed, but its file is gone from storage
        raise NotFound(_("The report's file is missing; generate it again.")) from exc
    name = f"{report.start:%Y-%m}-{report.period}-{report.edition}.pdf"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
