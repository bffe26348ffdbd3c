"""The constituency directory: the team tree, organizations, their assets and contacts.

Thin views: parse the request, call the tenancy selectors (which apply visibility),
render. An object the user may not see is a 404 page, like one that does not exist.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_vary_headers

from certhub.core.http import not_found_as_404
from certhub.tenancy.choices import NotificationKind
from certhub.tenancy.forms import DirectoryFilterForm
from certhub.tenancy.models import Contact
from certhub.tenancy.selectors import (
    get_organization_detail,
    get_team_detail,
    organizations_matching,
    team_tree_visible_to,
)

ORGANIZATIONS_PER_PAGE = 25


def group_fingerprint(fingerprint: str) -> str:
    """``0123456789ABCDEF...`` -> ``0123 4567 89AB CDEF ...``: how people read keys aloud."""
    return " ".join(fingerprint[i : i + 4] for i in range(0, len(fingerprint), 4))


@dataclass(frozen=True)
class ContactRow:
    contact: Contact
    fingerprint: str
    notifications: list[str]


def _contact_rows(contacts: Iterable[Contact]) -> list[ContactRow]:
    labels = dict(NotificationKind.choices)
    return [
        ContactRow(
            contact=contact,
            fingerprint=group_fingerprint(contact.pgp_fingerprint),
            notifications=[str(labels.get(kind, kind)) for kind in contact.notifications or []],
        )
        for contact in contacts
    ]


@login_required
def directory(request: HttpRequest) -> HttpResponse:
    form = DirectoryFilterForm(request.GET or None, user=request.user)
    organizations = organizations_matching(request.user, **form.filters()).order_by("name", "slug")
    page = Paginator(organizations, ORGANIZATIONS_PER_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {"form": form, "page": page, "filter_query": query.urlencode()}
    htmx = getattr(request, "htmx", None)
    if htmx and not htmx.history_restore_request:
        # The filter form and pager ask htmx for the table only; a plain request (or a
        # history restore) gets the whole page, so everything works without JavaScript.
        response = render(request, "tenancy/_organization_table.html", context)
    else:
        context["team_tree"] = team_tree_visible_to(request.user)
        response = render(request, "tenancy/directory.html", context)
    patch_vary_headers(response, ["HX-Request"])
    return response


@login_required
@not_found_as_404
def team_detail(request: HttpRequest, slug: str) -> HttpResponse:
    detail = get_team_detail(request.user, slug)
    contacts = _contact_rows(detail.contacts)
    return render(
        request,
        "tenancy/team_detail.html",
        {"detail": detail, "team": detail.team, "contacts": contacts},
    )


@login_required
@not_found_as_404
def organization_detail(request: HttpRequest, slug: str) -> HttpResponse:
    organization = get_organization_detail(request.user, slug)
    contacts = _contact_rows(organization.contacts.all())
    return render(
        request,
        "tenancy/organization_detail.html",
        {"organization": organization, "contacts": contacts},
    )
