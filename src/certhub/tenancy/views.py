"""The constituency directory (placeholder)."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


@login_required
def directory(request: HttpRequest) -> HttpResponse:
    return render(request, "tenancy/directory.html")
