from django.urls import path

from certhub.tenancy import views

app_name = "tenancy"

urlpatterns = [
    path("", views.directory, name="directory"),
    path("teams/<slug:slug>/", views.team_detail, name="team_detail"),
    path("organizations/<slug:slug>/", views.organization_detail, name="organization_detail"),
]
