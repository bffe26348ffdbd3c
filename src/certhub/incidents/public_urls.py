"""The citizens' public report form and status page, mounted at /report/ (no account)."""

from django.urls import path

from certhub.incidents import views

app_name = "public_report"

urlpatterns = [
    path("", views.public_report, name="form"),
    path("status/", views.public_status, name="status"),
]
