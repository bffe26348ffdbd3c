"""The Council's pages (mounted at /council/): its home, members, meetings, the register
of recommendations and disputes between CERTs.

Thin views: parse the request, call one council selector or service, render. Whoever
may not read a record gets the 404 page, like for one that does not exist; a reader
who may not write gets no form (and a 403 message if it posts anyway)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from certhub.accounts.selectors import get_user_by_username
from certhub.awareness import council_selectors as selectors
from certhub.awareness import council_services as services
from certhub.awareness.council_choices import (
    CLOSED_RECOMMENDATION_STATUSES,
    DisputeStatus,
    RecommendationStatus,
)
from certhub.awareness.council_forms import (
    AppointForm,
    AttendanceForm,
    DecideForm,
    DisputeForm,
    EndTermForm,
    FollowUpForm,
    MeetingForm,
    RecommendationForm,
    RegisterFilterForm,
)
from certhub.core.errors import CerthubError, NotFound
from certhub.core.http import not_found_as_404

PER_PAGE = 25


def council_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Signed in, and the selectors' NotFound as the 404 page."""
    return login_required(not_found_as_404(view))


def _keeper_only(request: HttpRequest) -> None:
    """Forms for writers only: a reader who is not a keeper gets 404 for the form page."""
    if not selectors.council_access(request.user).writes:
        raise NotFound(_("No such Council record."))


def _form_page(
    request: HttpRequest, form: Any, title: str, back: str, status: int = 200
) -> HttpResponse:
    return render(
        request,
        "awareness/council/form.html",
        {"form": form, "title": title, "back": back},
        status=status,
    )


def _failed(form: Any, exc: CerthubError) -> int:
    form.add_error(None, exc.message)
    return exc.status if exc.status in (400, 403, 409) else 400


# --- Home ------------------------------------------------------------------------------


@council_page
def home(request: HttpRequest) -> HttpResponse:
    access = selectors.council_access(request.user)
    if not access.reaches_anything:
        raise NotFound(_("No such Council record."))
    recommendations = selectors.recommendations_visible_to(request.user)
    today = selectors.today()
    context: dict[str, Any] = {
        "access": access,
        "open_recommendations": recommendations.exclude(
            status__in=CLOSED_RECOMMENDATION_STATUSES
        ).count(),
        "overdue_recommendations": recommendations.exclude(
            status__in=CLOSED_RECOMMENDATION_STATUSES
        )
        .filter(due_date__lt=today)
        .count(),
        "latest_recommendations": list(recommendations.order_by("-id")[:5]),
        "open_disputes": selectors.disputes_visible_to(request.user)
        .exclude(status__in=[DisputeStatus.DECIDED, DisputeStatus.WITHDRAWN])
        .count(),
    }
    if access.reads:
        meetings = selectors.meetings_visible_to(request.user)
        context["next_meeting"] = meetings.filter(held_on__gte=today).order_by("held_on").first()
        context["last_meeting"] = meetings.filter(held_on__lt=today).order_by("-held_on").first()
        context["member_count"] = (
            selectors.members_visible_to(request.user)
            .filter(term_start__lte=today, term_end__gte=today)
            .count()
        )
    return render(request, "awareness/council/home.html", context)


# --- Members ---------------------------------------------------------------------------


@council_page
def members(request: HttpRequest) -> HttpResponse:
    access = selectors.require_reader(request.user)
    form = AppointForm(request.POST or None)
    status = 200
    if request.method == "POST":
        _keeper_only(request)
        if form.is_valid():
            try:
                user = get_user_by_username(form.cleaned_data["username"])
                member = services.appoint_member(
                    actor=request.user,
                    user=user,
                    seat=form.cleaned_data["seat"],
                    term_start=form.cleaned_data["term_start"],
                    term_end=form.cleaned_data["term_end"],
                    organization_name=form.cleaned_data["organization_name"],
                )
            except CerthubError as exc:
                status = _failed(form, exc)
            else:
                messages.success(request, _("%(member)s appointed.") % {"member": member})
                return redirect("council:members")
        else:
            status = 400
    today = selectors.today()
    rows = list(selectors.members_visible_to(request.user).order_by("-term_end", "seat"))
    return render(
        request,
        "awareness/council/members.html",
        {
            "access": access,
            "current": [m for m in rows if m.term_start <= today <= m.term_end],
            "upcoming": [m for m in rows if m.term_start > today],
            "past": [m for m in rows if m.term_end < today],
            "form": form if access.writes else None,
            "end_form": EndTermForm(initial={"ended_on": today}),
        },
        status=status,
    )


@require_POST
@council_page
def end_term(request: HttpRequest, member_id: int) -> HttpResponse:
    member = selectors.get_member(request.user, member_id)
    _keeper_only(request)
    form = EndTermForm(request.POST)
    if form.is_valid():
        try:
            services.end_term(
                actor=request.user, member=member, ended_on=form.cleaned_data["ended_on"]
            )
        except CerthubError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("The term of %(member)s ends.") % {"member": member})
    else:
        messages.error(request, _("Give the date the term ends."))
    return redirect("council:members")


# --- Meetings --------------------------------------------------------------------------


@council_page
def meetings(request: HttpRequest) -> HttpResponse:
    access = selectors.require_reader(request.user)
    page = Paginator(
        selectors.meetings_visible_to(request.user).order_by("-held_on", "-id"), PER_PAGE
    ).get_page(request.GET.get("page"))
    return render(request, "awareness/council/meetings.html", {"access": access, "page": page})


@council_page
def meeting_new(request: HttpRequest) -> HttpResponse:
    selectors.require_reader(request.user)
    _keeper_only(request)
    form = MeetingForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            meeting = services.schedule_meeting(actor=request.user, **form.cleaned_data)
        except CerthubError as exc:
            return _form_page(
                request, form, _("New meeting"), "council:meetings", _failed(form, exc)
            )
        messages.success(request, _("Meeting scheduled."))
        return redirect("council:meeting", meeting_id=meeting.pk)
    status = 400 if form.is_bound else 200
    return _form_page(request, form, _("New meeting"), "council:meetings", status)


@council_page
def meeting_detail(request: HttpRequest, meeting_id: int) -> HttpResponse:
    meeting = selectors.get_meeting(request.user, meeting_id)
    access = selectors.council_access(request.user)
    context: dict[str, Any] = {"meeting": meeting, "access": access}
    if access.writes:
        members = list(
            selectors.current_terms(meeting.held_on).select_related("user").order_by("seat")
        )
        current = {row.member_id: row.status for row in meeting.attendance.all()}
        context["attendance_form"] = AttendanceForm(members=members, current=current)
    return render(request, "awareness/council/meeting.html", context)


@council_page
def meeting_edit(request: HttpRequest, meeting_id: int) -> HttpResponse:
    meeting = selectors.get_meeting(request.user, meeting_id)
    _keeper_only(request)
    initial = {name: getattr(meeting, name) for name in services.MEETING_FIELDS}
    form = MeetingForm(request.POST or None, initial=initial)
    title = _("Edit meeting")
    if request.method == "POST" and form.is_valid():
        try:
            services.update_meeting(actor=request.user, meeting=meeting, **form.cleaned_data)
        except CerthubError as exc:
            return _form_page(request, form, title, "council:meetings", _failed(form, exc))
        messages.success(request, _("Meeting saved."))
        return redirect("council:meeting", meeting_id=meeting.pk)
    return _form_page(request, form, title, "council:meetings", 400 if form.is_bound else 200)


@require_POST
@council_page
def meeting_attendance(request: HttpRequest, meeting_id: int) -> HttpResponse:
    meeting = selectors.get_meeting(request.user, meeting_id)
    _keeper_only(request)
    members = list(selectors.current_terms(meeting.held_on).select_related("user"))
    form = AttendanceForm(request.POST, members=members, current={})
    if form.is_valid():
        try:
            services.record_attendance(
                actor=request.user, meeting=meeting, attendance=form.attendance()
            )
        except CerthubError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Attendance recorded."))
    else:
        messages.error(request, _("Choose an attendance for every member."))
    return redirect("council:meeting", meeting_id=meeting.pk)


# --- Recommendations -----------------------------------------------------------------


@council_page
def recommendations(request: HttpRequest) -> HttpResponse:
    access = selectors.council_access(request.user)
    if not access.reaches_anything:
        raise NotFound(_("No such Council record."))
    form = RegisterFilterForm(request.GET or None)
    rows = selectors.recommendations_matching(request.user, **form.filters()).order_by("-id")
    page = Paginator(rows, PER_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "awareness/council/recommendations.html",
        {
            "access": access,
            "form": form,
            "page": page,
            "filter_query": query.urlencode(),
            "today": selectors.today(),
            "closed": CLOSED_RECOMMENDATION_STATUSES,
        },
    )


@council_page
def recommendation_new(request: HttpRequest) -> HttpResponse:
    selectors.require_reader(request.user)
    _keeper_only(request)
    form = RecommendationForm(request.POST or None, user=request.user)
    title = _("New recommendation")
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            recommendation = services.add_recommendation(
                actor=request.user,
                title=data["title"],
                text=data["text"],
                owner=data["owner"],
                kind=data["kind"],
                due_date=data["due_date"],
                meeting=data["meeting"],
                addressed_teams=data["addressed_teams"],
            )
        except CerthubError as exc:
            return _form_page(request, form, title, "council:recommendations", _failed(form, exc))
        messages.success(
            request, _("%(ref)s entered in the register.") % {"ref": recommendation.reference}
        )
        return redirect("council:recommendation", recommendation_id=recommendation.pk)
    status = 400 if form.is_bound else 200
    return _form_page(request, form, title, "council:recommendations", status)


@council_page
def recommendation_detail(request: HttpRequest, recommendation_id: int) -> HttpResponse:
    recommendation = selectors.get_recommendation(request.user, recommendation_id)
    access = selectors.council_access(request.user)
    can_follow_up = selectors.may_follow_up(request.user, recommendation)
    form = FollowUpForm(request.POST or None, keeper=access.writes) if can_follow_up else None
    status = 200
    if request.method == "POST":
        if form is None:
            raise NotFound(_("No such Council record."))
        if form.is_valid():
            try:
                services.add_follow_up(
                    actor=request.user,
                    recommendation=recommendation,
                    text=form.cleaned_data["text"],
                    status=form.cleaned_data["status"],
                )
            except CerthubError as exc:
                status = _failed(form, exc)
            else:
                messages.success(request, _("Follow-up recorded."))
                return redirect("council:recommendation", recommendation_id=recommendation.pk)
        else:
            status = 400
    return render(
        request,
        "awareness/council/recommendation.html",
        {
            "recommendation": recommendation,
            "access": access,
            "form": form,
            "statuses": RecommendationStatus,
        },
        status=status,
    )


# --- Disputes ---------------------------------------------------------------------------


@council_page
def disputes(request: HttpRequest) -> HttpResponse:
    access = selectors.council_access(request.user)
    if not access.reaches_anything:
        raise NotFound(_("No such Council record."))
    page = Paginator(
        selectors.disputes_visible_to(request.user).order_by("-raised_on", "-id"), PER_PAGE
    ).get_page(request.GET.get("page"))
    return render(request, "awareness/council/disputes.html", {"access": access, "page": page})


@council_page
def dispute_new(request: HttpRequest) -> HttpResponse:
    selectors.require_reader(request.user)
    _keeper_only(request)
    form = DisputeForm(request.POST or None, initial={"raised_on": selectors.today()})
    title = _("New dispute")
    if request.method == "POST" and form.is_valid():
        try:
            dispute = services.open_dispute(actor=request.user, **form.cleaned_data)
        except CerthubError as exc:
            return _form_page(request, form, title, "council:disputes", _failed(form, exc))
        messages.success(request, _("%(ref)s entered.") % {"ref": dispute.reference})
        return redirect("council:dispute", dispute_id=dispute.pk)
    return _form_page(request, form, title, "council:disputes", 400 if form.is_bound else 200)


@council_page
def dispute_detail(request: HttpRequest, dispute_id: int) -> HttpResponse:
    dispute = selectors.get_dispute(request.user, dispute_id)
    access = selectors.council_access(request.user)
    form = None
    status = 200
    if access.writes:
        form = DecideForm(
            request.POST or None,
            user=request.user,
            initial={"status": dispute.status, "decision": dispute.decision},
        )
    if request.method == "POST":
        if form is None:
            raise NotFound(_("No such Council record."))
        if form.is_valid():
            try:
                services.decide_dispute(actor=request.user, dispute=dispute, **form.cleaned_data)
            except CerthubError as exc:
                status = _failed(form, exc)
            else:
                messages.success(request, _("Dispute updated."))
                return redirect("council:dispute", dispute_id=dispute.pk)
        else:
            status = 400
    return render(
        request,
        "awareness/council/dispute.html",
        {"dispute": dispute, "access": access, "form": form},
        status=status,
    )
