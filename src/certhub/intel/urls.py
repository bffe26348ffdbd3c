from django.urls import path

from certhub.intel import views

app_name = "intel"

urlpatterns = [
    path("", views.search, name="search"),
    path("value/", views.value, name="value"),
]
