from django.urls import path, re_path

from certhub.intel import misp_views

app_name = "misp"

# MISP answers with and without a ".json" suffix; PyMISP uses both.
urlpatterns = [
    re_path(r"^servers/getVersion(?:\.json)?$", misp_views.get_version, name="version"),
    re_path(r"^servers/getPyMISPVersion(?:\.json)?$", misp_views.get_pymisp_version, name="pymisp"),
    re_path(r"^users/view/me(?:\.json)?$", misp_views.user_me, name="me"),
    re_path(r"^attributes/describeTypes(?:\.json)?$", misp_views.describe_types, name="types"),
    re_path(r"^events/add(?:\.json)?/?$", misp_views.event_add, name="event_add"),
    path("events/view/<str:event_id>", misp_views.event_view, name="event_view"),
    re_path(r"^events/restSearch(?:\.json)?/?$", misp_views.events_search, name="events"),
    re_path(
        r"^attributes/restSearch(?:\.json)?/?$", misp_views.attributes_search, name="attributes"
    ),
]
