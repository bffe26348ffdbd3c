"""The CSAF provider under /.well-known/csaf/ (mounted in certhub/urls.py)."""

from django.urls import path, re_path

from certhub.advisories import views

app_name = "csaf"

urlpatterns = [
    path("provider-metadata.json", views.provider_metadata, name="provider-metadata"),
    re_path(r"^openpgp/(?P<fingerprint>[0-9A-Fa-f]{40,64})\.asc$", views.public_key, name="key"),
    path("clear/index.txt", views.index_txt, name="index"),
    path("clear/changes.csv", views.changes_csv, name="changes"),
    re_path(
        r"^clear/(?P<year>[0-9]{4})/(?P<name>[+\-a-z0-9_]{1,100})\.json"
        r"(?P<suffix>\.sha256|\.sha512|\.asc)?$",
        views.document,
        name="document",
    ),
]
