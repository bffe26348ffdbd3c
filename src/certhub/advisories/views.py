"""The pages of advisories: the CSAF provider (public, machine-readable), the authoring
pages of CERT staff, the advisory page with its PDF, an organization's inbox and its
acknowledgements, the coordinator's acknowledgement overview, and the public portal of
TLP:CLEAR advisories with its Atom feed.

Thin views: parse the request, call one selector or service, render. Every advisory is
found through the advisories selectors: one the user may not see is a 404 page.

The CSAF provider (OASIS CSAF 2.0, section 7): the public, signed directory of
TLP:CLEAR advisories under ``/.well-known/csaf/``.

- ``provider-metadata.json``: who publishes, where the documents and the key are;
- ``clear/index.txt`` and ``clear/changes.csv``: every document, and when it last changed;
- ``clear/<year>/<id>.json`` with ``.sha256``, ``.sha512`` and ``.asc`` (the detached
  OpenPGP signature made with the platform key);
- ``openpgp/<FINGERPRINT>.asc``: the public key.

The document bytes, hashes and signature were made at publication and are served as
stored. No account is needed: CLEAR is public by definition.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from certhub.advisories import csaf, selectors, services
from certhub.advisories.choices import EDITABLE_STATUSES, AckState, AdvisoryStatus
from certhub.advisories.forms import (
    AcknowledgeForm,
    AdvisoryForm,
    PortalFilterForm,
    PublishForm,
    WithdrawForm,
)
from certhub.advisories.models import Advisory, AdvisoryRevision
from certhub.advisories.pdf import PdfUnavailable, render_pdf
from certhub.advisories.presentation import present
from certhub.core.errors import CerthubError, NotFound
from certhub.core.http import not_found_as_404
from certhub.notify import openpgp as signing
from certhub.tenancy.visibility import TEAM_COORDINATE_ROLES, TEAM_WRITE_ROLES, scope_for

TLP_FOLDER = "clear"
PROVIDER_ROLE = "csaf_trusted_provider"  # documents are hashed and OpenPGP-signed


def _text(body: str, content_type: str) -> HttpResponse:
    response = HttpResponse(body.encode("utf-8"), content_type=f"{content_type}; charset=utf-8")
    response["Access-Control-Allow-Origin"] = "*"  # CSAF aggregators fetch from anywhere
    return response


@require_safe
def provider_metadata(request: HttpRequest) -> HttpResponse:
    key = signing.public_key()
    latest = (
        selectors.clear_revisions()
        .order_by("-published_at")
        .values_list("published_at", flat=True)
        .first()
    )
    metadata = {
        "canonical_url": csaf.provider_url("provider-metadata.json"),
        "distributions": [{"directory_url": csaf.provider_url(f"{TLP_FOLDER}/")}],
        "last_updated": csaf.csaf_datetime(latest) if latest else "1970-01-01T00:00:00.000Z",
        "list_on_CSAF_aggregators": True,
        "metadata_version": "2.0",
        "mirror_on_CSAF_aggregators": True,
        "public_openpgp_keys": [
            {
                "fingerprint": key.fingerprint,
                "url": csaf.provider_url(f"openpgp/{key.fingerprint}.asc"),
            }
        ],
        "publisher": {
            "category": "coordinator",
            "name": csaf.publisher_name(),
            "namespace": csaf.publisher_namespace(),
        },
        "role": PROVIDER_ROLE,
    }
    return _text(json.dumps(metadata, indent=2) + "\n", "application/json")


@require_safe
def public_key(request: HttpRequest, fingerprint: str) -> HttpResponse:
    key = signing.public_key()
    if fingerprint.upper() != key.fingerprint:
        raise Http404("No such key.")
    return _text(key.armored, "application/pgp-keys")


@require_safe
def index_txt(request: HttpRequest) -> HttpResponse:
    paths = selectors.clear_revisions().order_by("csaf_path").values_list("csaf_path", flat=True)
    return _text("".join(f"{path}\n" for path in paths), "text/plain")


@require_safe
def changes_csv(request: HttpRequest) -> HttpResponse:
    rows = (
        selectors.clear_revisions()
        .order_by("-published_at", "csaf_path")
        .values_list("csaf_path", "published_at")
    )
    body = "".join(f'"{path}","{csaf.csaf_datetime(moment)}"\n' for path, moment in rows)
    return _text(body, "text/csv")


@require_safe
@not_found_as_404
def document(request: HttpRequest, year: str, name: str, suffix: str = "") -> HttpResponse:
    revision = selectors.get_clear_revision(f"{year}/{name}.json")
    filename = f"{name}.json"
    if suffix == "":
        response = HttpResponse(revision.csaf_bytes, content_type="application/json")
        response["Access-Control-Allow-Origin"] = "*"
        return response
    if suffix == ".sha256":
        return _text(f"{revision.csaf_sha256}  {filename}\n", "text/plain")
    if suffix == ".sha512":
        return _text(f"{revision.csaf_sha512}  {filename}\n", "text/plain")
    if suffix == ".asc":
        return _text(revision.csaf_signature, "application/pgp-signature")
    raise NotFound("No such file.")


# --- Pages of certhub users ----------------------------------------------------------------

ADVISORIES_PER_PAGE = 25
FEED_ENTRIES = 50


def _reports_errors(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A lifecycle button whose service refuses (a business error) comes back to the
    advisory page with the service's message; an advisory the user may not see is a 404."""

    @wraps(view)
    def wrapper(request: HttpRequest, tracking_id: str) -> HttpResponse:
        try:
            return view(request, tracking_id)
        except NotFound as exc:
            raise Http404(exc.message) from exc
        except CerthubError as exc:
            messages.error(request, exc.message)
            return redirect("advisories:detail", tracking_id=tracking_id)

    return wrapper


def _row(user: Any, advisory: Advisory) -> dict[str, Any]:
    """One line of a list: the working copy for the authoring line, else the revision."""
    revision = advisory.latest_revision
    if selectors.in_authoring_line(user, advisory) or revision is None:
        return {
            "advisory": advisory,
            "title": advisory.title,
            "severity": advisory.severity,
            "tlp": advisory.tlp,
            "status": advisory.get_status_display(),
            "published_at": revision.published_at if revision else None,
        }
    return {
        "advisory": advisory,
        "title": revision.content["title"],
        "severity": revision.content["severity"],
        "tlp": revision.tlp,
        "status": _("Withdrawn") if revision.withdrawn else _("Published"),
        "published_at": revision.published_at,
    }


@login_required
def advisory_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    advisories = selectors.advisories_visible_to(user).order_by("-updated_at", "-id")
    status = request.GET.get("status", "")
    if status in AdvisoryStatus.values:
        advisories = advisories.filter(status=status)
    page = Paginator(advisories, ADVISORIES_PER_PAGE).get_page(request.GET.get("page"))
    scope = scope_for(user)
    return render(
        request,
        "advisories/list.html",
        {
            "page": page,
            "rows": [_row(user, advisory) for advisory in page.object_list],
            "statuses": AdvisoryStatus.choices,
            "status": status,
            "can_write": any(seat.role in TEAM_WRITE_ROLES for seat in scope.teams),
            "has_inbox": bool(scope.org_ids),
        },
    )


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.inbox_for(request.user), ADVISORIES_PER_PAGE).get_page(
        request.GET.get("page")
    )
    return render(request, "advisories/inbox.html", {"page": page})


def _form_page(
    request: HttpRequest, form: AdvisoryForm, advisory: Advisory | None, status: int = 200
) -> HttpResponse:
    return render(
        request, "advisories/form.html", {"form": form, "advisory": advisory}, status=status
    )


@login_required
def create(request: HttpRequest) -> HttpResponse:
    form = AdvisoryForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            advisory = services.create_advisory(
                actor=request.user, team=None, data=form.service_data()
            )
        except CerthubError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Draft %(id)s saved.") % {"id": advisory.tracking_id})
            return redirect("advisories:detail", tracking_id=advisory.tracking_id)
    return _form_page(request, form, None, 400 if form.is_bound else 200)


@login_required
@not_found_as_404
def edit(request: HttpRequest, tracking_id: str) -> HttpResponse:
    advisory = selectors.get_advisory(request.user, tracking_id)
    if not selectors.in_authoring_line(request.user, advisory):
        raise NotFound(_("No such advisory."))
    if request.method == "POST":
        form = AdvisoryForm(request.POST, user=request.user)
        if form.is_valid():
            try:
                services.update_advisory(
                    actor=request.user, advisory=advisory, data=form.service_data()
                )
            except CerthubError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, _("Changes saved."))
                return redirect("advisories:detail", tracking_id=tracking_id)
        return _form_page(request, form, advisory, 400)
    content = selectors.content_for(request.user, advisory)
    form = AdvisoryForm(initial=AdvisoryForm.initial_from(advisory, content), user=request.user)
    return _form_page(request, form, advisory)


def _page_context(user: Any, advisory: Advisory) -> dict[str, Any]:
    """What the advisory page and its PDF show to ``user``."""
    authoring = selectors.in_authoring_line(user, advisory)
    content = selectors.content_for(user, advisory)
    revisions = list(selectors.revisions_of(advisory))
    latest = revisions[-1] if revisions else None
    status_note = ""
    if authoring and advisory.status in (AdvisoryStatus.DRAFT, AdvisoryStatus.REVIEW):
        status_note = (
            _("Pending update, not published yet") if latest else _("Draft, not published")
        )
        if advisory.status == AdvisoryStatus.REVIEW:
            status_note += " · " + _("in review")
    return {
        "advisory_obj": advisory,
        "advisory": present(content),
        "tracking_id": advisory.tracking_id,
        "revision": latest,
        "revisions": revisions,
        "first_published": revisions[0].published_at if revisions else None,
        "authoring": authoring,
        "status_note": status_note,
        "publisher": csaf.publisher_name(),
    }


@login_required
@not_found_as_404
def detail(request: HttpRequest, tracking_id: str) -> HttpResponse:
    user = request.user
    advisory = selectors.get_advisory(user, tracking_id)
    context = _page_context(user, advisory)
    deliveries = selectors.deliveries_to_user(user, advisory)
    if any(d.read_at is None for d in deliveries):
        services.mark_read(actor=user, advisory=advisory)
    answers = selectors.latest_acknowledgements(advisory, [d.organization_id for d in deliveries])
    role = scope_for(user).role_in_team_over(advisory.team.path) if context["authoring"] else None
    status = advisory.status
    context.update(
        {
            "answering": [
                {"delivery": d, "answer": answers.get(d.organization_id)} for d in deliveries
            ],
            "ack_states": AckState.choices,
            "may_answer": advisory.latest_revision is not None
            and not advisory.latest_revision.withdrawn,
            "can_edit": role in TEAM_WRITE_ROLES and status in EDITABLE_STATUSES,
            "can_submit": role in TEAM_WRITE_ROLES and status == AdvisoryStatus.DRAFT,
            "can_publish": role in TEAM_COORDINATE_ROLES and status == AdvisoryStatus.REVIEW,
            "can_withdraw": role in TEAM_COORDINATE_ROLES
            and advisory.latest_revision_id is not None
            and status != AdvisoryStatus.WITHDRAWN,
            "publish_form": PublishForm(),
            "withdraw_form": WithdrawForm(),
            "ack_form": AcknowledgeForm(),
        }
    )
    return render(request, "advisories/detail.html", context)


@login_required
@require_POST
@_reports_errors
def submit(request: HttpRequest, tracking_id: str) -> HttpResponse:
    advisory = selectors.get_advisory(request.user, tracking_id)
    services.submit_advisory(actor=request.user, advisory=advisory)
    messages.success(request, _("Submitted for review."))
    return redirect("advisories:detail", tracking_id=tracking_id)


@login_required
@require_POST
@_reports_errors
def publish(request: HttpRequest, tracking_id: str) -> HttpResponse:
    advisory = selectors.get_advisory(request.user, tracking_id)
    form = PublishForm(request.POST)
    summary = form.cleaned_data["change_summary"] if form.is_valid() else ""
    advisory = services.publish_advisory(
        actor=request.user, advisory=advisory, change_summary=summary
    )
    messages.success(
        request,
        _("Published as revision %(n)d; it is being sent to its audience.")
        % {"n": advisory.latest_revision.number if advisory.latest_revision else 1},
    )
    return redirect("advisories:detail", tracking_id=tracking_id)


@login_required
@require_POST
@_reports_errors
def withdraw(request: HttpRequest, tracking_id: str) -> HttpResponse:
    advisory = selectors.get_advisory(request.user, tracking_id)
    form = WithdrawForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    services.withdraw_advisory(actor=request.user, advisory=advisory, reason=reason)
    messages.success(request, _("Withdrawn."))
    return redirect("advisories:detail", tracking_id=tracking_id)


@login_required
@require_POST
@_reports_errors
def acknowledge(request: HttpRequest, tracking_id: str) -> HttpResponse:
    advisory = selectors.get_advisory(request.user, tracking_id)
    form = AcknowledgeForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose one of the answers."))
        return redirect("advisories:detail", tracking_id=tracking_id)
    ack = services.acknowledge_advisory(
        actor=request.user,
        advisory=advisory,
        state=form.cleaned_data["state"],
        comment=form.cleaned_data["comment"],
        organization=form.cleaned_data["organization"],
    )
    messages.success(
        request,
        _("Thank you: %(organization)s answered “%(state)s”.")
        % {"organization": ack.organization.name, "state": ack.get_state_display()},
    )
    return redirect("advisories:detail", tracking_id=tracking_id)


@login_required
@not_found_as_404
def acknowledgements(request: HttpRequest, tracking_id: str) -> HttpResponse:
    overview = selectors.acknowledgement_overview(request.user, tracking_id)
    return render(request, "advisories/acknowledgements.html", {"overview": overview})


def _pdf_response(request: HttpRequest, context: dict[str, Any]) -> HttpResponse:
    try:
        data = render_pdf(context, base_url=request.build_absolute_uri("/"))
    except PdfUnavailable as exc:
        return HttpResponse(exc.message, status=503, content_type="text/plain; charset=utf-8")
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{context["tracking_id"]}.pdf"'
    return response


@login_required
@not_found_as_404
def pdf(request: HttpRequest, tracking_id: str) -> HttpResponse:
    advisory = selectors.get_advisory(request.user, tracking_id)
    return _pdf_response(request, _page_context(request.user, advisory))


# --- The public portal: TLP:CLEAR advisories, no account --------------------------------


def _csaf_links(revision: AdvisoryRevision) -> dict[str, str]:
    year, file_name = revision.csaf_path.split("/", 1)
    url = reverse("csaf:document", kwargs={"year": year, "name": file_name.removesuffix(".json")})
    return {
        suffix.lstrip(".") or "json": url + suffix for suffix in ("", ".asc", ".sha256", ".sha512")
    }


@require_safe
def portal(request: HttpRequest) -> HttpResponse:
    years, vendors = selectors.portal_facets()
    form = PortalFilterForm(request.GET or None, years=years, vendors=vendors)
    advisories = selectors.portal_advisories(**form.filters())
    page = Paginator(advisories, ADVISORIES_PER_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "advisories/portal.html",
        {
            "form": form,
            "page": page,
            "entries": [
                {"advisory": a, "content": present(a.latest_revision.content)}
                for a in page.object_list
                if a.latest_revision is not None
            ],
            "filter_query": query.urlencode(),
        },
    )


def _portal_context(advisory: Advisory) -> dict[str, Any]:
    context = _page_context(None, advisory)
    revision = context["revision"]
    context["csaf_links"] = _csaf_links(revision) if revision else {}
    return context


@require_safe
@not_found_as_404
def portal_detail(request: HttpRequest, tracking_id: str) -> HttpResponse:
    advisory = selectors.get_portal_advisory(tracking_id)
    return render(request, "advisories/portal_detail.html", _portal_context(advisory))


@require_safe
@not_found_as_404
def portal_pdf(request: HttpRequest, tracking_id: str) -> HttpResponse:
    return _pdf_response(request, _portal_context(selectors.get_portal_advisory(tracking_id)))


@require_safe
def portal_feed(request: HttpRequest) -> HttpResponse:
    """The newest TLP:CLEAR advisories as an Atom feed."""
    feed = Atom1Feed(
        title=_("%(publisher)s security advisories") % {"publisher": csaf.publisher_name()},
        link=request.build_absolute_uri(reverse("portal:list")),
        description=_("Published TLP:CLEAR security advisories."),
        feed_url=request.build_absolute_uri(reverse("portal:feed")),
        language="en",
        author_name=csaf.publisher_name(),
    )
    for advisory in selectors.portal_advisories()[:FEED_ENTRIES]:
        revision = advisory.latest_revision
        if revision is None:
            continue
        content = revision.content
        url = request.build_absolute_uri(reverse("portal:detail", args=[advisory.tracking_id]))
        title = f"{advisory.tracking_id}: {content['title']}"
        if revision.withdrawn:
            title = _("Withdrawn: %(title)s") % {"title": title}
        feed.add_item(
            title=title,
            link=url,
            description=content["summary"],
            unique_id=url,
            updateddate=revision.published_at,
            pubdate=revision.published_at,
            categories=[content["severity"]] + [cve["cve"] for cve in content.get("cves", [])],
        )
    response = HttpResponse(content_type="application/atom+xml; charset=utf-8")
    feed.write(response, "utf-8")
    return response
