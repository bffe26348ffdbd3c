from django.urls import path

from certhub.tenancy import views

app_name = "tenancy"

urlpatterns = [
    path("", views.directory, name="directory"),
]
