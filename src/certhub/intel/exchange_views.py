"""Pages of STIX/TAXII interchange: sharing an incident's indicators to a TAXII
collection (the button on the incident page posts here), and the collections a user
reads with their TAXII addresses. Thin: parse, call one service or selector, render."""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods

from certhub.accounts.selectors import current_user
from certhub.core.errors import CerthubError
from certhub.core.http import not_found_as_404
from certhub.incidents.models import Incident
from certhub.incidents.selectors import access_for, get_incident
from certhub.intel import exchange_selectors as selectors
from certhub.intel import exchange_services as services


class ShareForm(forms.Form):
    collection = forms.RegexField(
        label=_("Collection"),
        regex=r"^(team:[a-z0-9-]{1,100}|sector:[a-z0-9-]{1,100}|national)$",
        max_length=110,
        error_messages={"invalid": _("Choose a collection from the list.")},
    )


def share_targets(incident: Incident) -> list[tuple[str, str]]:
    """The collections offered on an incident: its handling CERT's, its sector's and the
    national one (the service decides whether the user may write each)."""
    team = incident.handling_team
    targets = [(f"team:{team.slug}", str(_("%(team)s (team collection)") % {"team": team.name}))]
    org = incident.reporting_org
    if org is not None:
        targets.append(
            (f"sector:{org.sector.slug}", str(_("%(sector)s sector") % {"sector": org.sector}))
        )
    targets.append(("national", str(_("National community (TLP:GREEN and CLEAR only)"))))
    return targets


@login_required
@require_http_methods(["GET", "POST"])
@not_found_as_404
def share(request: HttpRequest, reference: str) -> HttpResponse:
    user = current_user(request)
    incident = get_incident(user, reference)
    access = access_for(user, incident)
    context: dict[str, object] = {
        "incident": incident,
        "access": access,
        "targets": share_targets(incident),
        "form": ShareForm(),
    }
    status = 200
    if request.method == "POST":
        form = ShareForm(request.POST)
        context["form"] = form
        if not form.is_valid():
            context["error"] = form.errors.as_text()
            status = 400
        else:
            try:
                context["report"] = services.share_incident(
                    actor=user, reference=incident.reference, target=form.cleaned_data["collection"]
                )
            except CerthubError as exc:
                if exc.status == 404:
                    raise
                context["error"] = exc.message
                status = exc.status
    return render(request, "intel/exchange/share.html", context, status=status)


@login_required
@require_GET
def collections(request: HttpRequest) -> HttpResponse:
    user = current_user(request)
    return render(
        request,
        "intel/exchange/collections.html",
        {"accesses": selectors.collections_readable_by(user)},
    )
