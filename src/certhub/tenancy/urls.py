from django.urls import path, re_path

from certhub.tenancy import views

app_name = "tenancy"

urlpatterns = [
    path("", views.directory, name="directory"),
    path("teams/<slug:slug>/", views.team_detail, name="team_detail"),
    path("organizations/<slug:slug>/", views.organization_detail, name="organization_detail"),
    path("cii/", views.cii_register, name="cii_register"),
    path("cii/<slug:slug>/", views.cii_record, name="cii_record"),
    re_path(
        r"^cii/(?P<slug>[-a-zA-Z0-9_]+)/(?P<action>designate|regrade|review|revoke)/$",
        views.cii_change,
        name="cii_change",
    ),
]
