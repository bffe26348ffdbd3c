from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from certhub.api import api
from certhub.intel import misp_urls

admin.site.site_header = "certhub administration"

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="tenancy:directory", permanent=False), name="home"),
    path("accounts/", include("certhub.accounts.urls")),
    path("directory/", include("certhub.tenancy.urls")),
    path("incidents/", include("certhub.incidents.urls")),
    path("report/", include("certhub.incidents.public_urls")),
    path("feeds/", include("certhub.feeds.urls")),
    path("advisories/", include("certhub.advisories.urls")),
    path(".well-known/csaf/", include("certhub.advisories.provider_urls")),
    path("security-advisories/", include("certhub.advisories.portal_urls")),
    path("notifications/", include("certhub.notify.urls")),
    path("intel/", include("certhub.intel.urls")),
    path("taxii2/", include("certhub.intel.taxii_urls")),
    path("misp/", include("certhub.intel.misp_urls")),
    # PyMISP given "<certhub>/misp" (no slash) joins its paths to the root: the same
    # few MISP paths answer there too (none of them is a certhub path).
    path("", include((misp_urls.urlpatterns, "misp_root"))),
    path("awareness/", include("certhub.awareness.urls")),
    path("council/", include("certhub.awareness.council_urls")),
    path("api/v1/", api.urls),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
]
