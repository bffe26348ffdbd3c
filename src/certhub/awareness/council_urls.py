"""The Council's pages, mounted at /council/."""

from django.urls import path

from certhub.awareness import council_views as views

app_name = "council"

urlpatterns = [
    path("", views.home, name="home"),
    path("members/", views.members, name="members"),
    path("members/<int:member_id>/end/", views.end_term, name="end_term"),
    path("meetings/", views.meetings, name="meetings"),
    path("meetings/new/", views.meeting_new, name="meeting_new"),
    path("meetings/<int:meeting_id>/", views.meeting_detail, name="meeting"),
    path("meetings/<int:meeting_id>/edit/", views.meeting_edit, name="meeting_edit"),
    path(
        "meetings/<int:meeting_id>/attendance/",
        views.meeting_attendance,
        name="meeting_attendance",
    ),
    path("recommendations/", views.recommendations, name="recommendations"),
    path("recommendations/new/", views.recommendation_new, name="recommendation_new"),
    path(
        "recommendations/<int:recommendation_id>/",
        views.recommendation_detail,
        name="recommendation",
    ),
    path("disputes/", views.disputes, name="disputes"),
    path("disputes/new/", views.dispute_new, name="dispute_new"),
    path("disputes/<int:dispute_id>/", views.dispute_detail, name="dispute"),
]
