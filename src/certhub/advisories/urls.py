"""The advisory pages of certhub users (mounted at /advisories/)."""

from django.urls import path, re_path

from certhub.advisories import views

app_name = "advisories"

TRACKING_ID = r"(?P<tracking_id>[A-Za-z0-9][A-Za-z0-9+_\-]{0,63})"

urlpatterns = [
    path("", views.advisory_list, name="list"),
    path("inbox/", views.inbox, name="inbox"),
    path("new/", views.create, name="create"),
    re_path(rf"^{TRACKING_ID}/$", views.detail, name="detail"),
    re_path(rf"^{TRACKING_ID}/edit/$", views.edit, name="edit"),
    re_path(rf"^{TRACKING_ID}/submit/$", views.submit, name="submit"),
    re_path(rf"^{TRACKING_ID}/publish/$", views.publish, name="publish"),
    re_path(rf"^{TRACKING_ID}/withdraw/$", views.withdraw, name="withdraw"),
    re_path(rf"^{TRACKING_ID}/acknowledge/$", views.acknowledge, name="acknowledge"),
    re_path(rf"^{TRACKING_ID}/acknowledgements/$", views.acknowledgements, name="acknowledgements"),
    re_path(rf"^{TRACKING_ID}/pdf/$", views.pdf, name="pdf"),
]
