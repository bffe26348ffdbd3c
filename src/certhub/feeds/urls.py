from django.urls import path

from certhub.feeds import views

app_name = "feeds"

urlpatterns = [
    path("", views.events, name="index"),
    path("events/", views.events, name="events"),
    path("upload/", views.upload, name="upload"),
    path("runs/", views.runs, name="runs"),
    path("runs/<int:pk>/", views.run_detail, name="run_detail"),
]
