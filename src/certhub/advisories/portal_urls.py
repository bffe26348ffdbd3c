"""The public portal of TLP:CLEAR advisories (mounted at /security-advisories/): no
account needed, works without JavaScript."""

from django.urls import path, re_path

from certhub.advisories import views
from certhub.advisories.urls import TRACKING_ID

app_name = "portal"

urlpatterns = [
    path("", views.portal, name="list"),
    path("feed.atom", views.portal_feed, name="feed"),
    re_path(rf"^{TRACKING_ID}/$", views.portal_detail, name="detail"),
    re_path(rf"^{TRACKING_ID}/pdf/$", views.portal_pdf, name="pdf"),
]
