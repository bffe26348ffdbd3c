"""The constituency directory: the team tree, organizations, their assets and contacts.

Thin views: parse the request, call the tenancy selectors (which apply visibility),
render. An object the user may not see is a 404 page, like one that does not exist.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from certhub.core.errors import CerthubError, NotFound
from certhub.core.http import not_found_as_404, render_page_or_fragment, wants_fragment
from certhub.tenancy import services
from certhub.tenancy.choices import NotificationKind
from certhub.tenancy.cii import GRADE_BANDS
from certhub.tenancy.forms import (
    CIIFilterForm,
    DesignateForm,
    DirectoryFilterForm,
    RegradeForm,
    ReviewForm,
    RevokeForm,
)
from certhub.tenancy.models import Contact
from certhub.tenancy.selectors import (
    CIIRecord,
    cii_criteria,
    get_cii_record,
    get_organization_detail,
    get_team_detail,
    organizations_matching,
    team_tree_visible_to,
)
from certhub.tenancy.selectors import cii_register as cii_register_for

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
    # The filter form and pager ask htmx for the table only.
    if not wants_fragment(request):
        context["team_tree"] = team_tree_visible_to(request.user)
    return render_page_or_fragment(
        request, "tenancy/directory.html", "tenancy/_organization_table.html", context
    )


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


# --- The CII registry ------------------------------------------------------------------


@login_required
def cii_register(request: HttpRequest) -> HttpResponse:
    form = CIIFilterForm(request.GET or None, user=request.user)
    organizations = cii_register_for(request.user, **form.filters())
    page = Paginator(organizations, ORGANIZATIONS_PER_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "tenancy/cii_register.html",
        {
            "form": form,
            "page": page,
            "filter_query": query.urlencode(),
            "today": timezone.localdate(),
            "criteria": cii_criteria(),
            "bands": GRADE_BANDS,
        },
    )


def _cii_forms(record: CIIRecord, data: Any = None, which: str = "") -> dict[str, Any]:
    """The forms of a CII record a registry keeper sees; ``which`` gets ``data``."""
    if not record.can_manage:
        return {}
    criteria = cii_criteria()
    org = record.organization

    def bound(name: str) -> Any:
        return data if which == name else None

    today = timezone.localdate()
    if not org.is_cii:
        return {
            "designate_form": DesignateForm(
                bound("designate"), criteria=criteria, initial={"designated_on": today}
            )
        }
    return {
        "regrade_form": RegradeForm(bound("regrade"), criteria=criteria),
        "review_form": ReviewForm(bound("review"), initial={"reviewed_on": today}),
        "revoke_form": RevokeForm(bound("revoke"), initial={"revoked_on": today}),
    }


def _cii_page(
    request: HttpRequest, record: CIIRecord, forms: dict[str, Any], status: int = 200
) -> HttpResponse:
    return render(
        request,
        "tenancy/cii_record.html",
        {
            "record": record,
            "organization": record.organization,
            "today": timezone.localdate(),
            **forms,
        },
        status=status,
    )


@login_required
@not_found_as_404
def cii_record(request: HttpRequest, slug: str) -> HttpResponse:
    record = get_cii_record(request.user, slug)
    return _cii_page(request, record, _cii_forms(record))


@require_POST
@login_required
@not_found_as_404
def cii_change(request: HttpRequest, slug: str, action: str) -> HttpResponse:
    """One of the registry's writes on an organization: designate, regrade, review,
    revoke. The form is shown again with the service's refusal when it refuses."""
    record = get_cii_record(request.user, slug)
    if not record.can_manage:
        raise NotFound(_("No such organization."))
    forms = _cii_forms(record, request.POST, action)
    form = forms.get(f"{action}_form")
    if form is None:
        raise NotFound(_("No such organization."))
    org = record.organization
    if form.is_valid():
        data = form.cleaned_data
        try:
            if action == "designate":
                services.designate_cii(
                    actor=request.user,
                    organization=org,
                    authority=data["authority"],
                    designated_on=data["designated_on"],
                    decision_reference=data["decision_reference"],
                    grade=data["grade"],
                    answers=form.answers(),
                    reason=data["reason"],
                    review_date=data["review_date"],
                )
            elif action == "regrade":
                services.regrade_cii(
                    actor=request.user,
                    organization=org,
                    grade=data["grade"],
                    answers=form.answers(),
                    reason=data["reason"],
                )
            elif action == "review":
                services.complete_cii_review(
                    actor=request.user,
                    organization=org,
                    reviewed_on=data["reviewed_on"],
                    next_review_date=data["next_review_date"],
                    note=data["note"],
                )
            else:
                services.revoke_cii(
                    actor=request.user,
                    organization=org,
                    revoked_on=data["revoked_on"],
                    reason=data["reason"],
                )
        except CerthubError as exc:
            form.add_error(None, exc.message)
            return _cii_page(request, record, forms, 400 if exc.status == 400 else exc.status)
        messages.success(request, _("The CII registry is up to date."))
        return redirect("tenancy:cii_record", slug=org.slug)
    return _cii_page(request, record, forms, 400)
