"""The user's notification preferences."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from certhub.notify import selectors, services
from certhub.notify.forms import PreferencesForm


@login_required
def preferences(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = PreferencesForm(request.POST)
        if form.is_valid():
            services.set_preferences(
                actor=request.user, user=request.user, enabled_kinds=form.cleaned_data["kinds"]
            )
            messages.success(request, _("Your notification choices are saved."))
            return redirect("notify:preferences")
    else:
        form = PreferencesForm(initial={"kinds": selectors.enabled_kinds(request.user)})
    status = 400 if form.is_bound else 200
    return render(request, "notify/preferences.html", {"form": form}, status=status)
