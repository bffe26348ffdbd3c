from django.urls import path

from certhub.incidents import views

app_name = "incidents"

urlpatterns = [
    path("", views.queue, name="queue"),
    path("bulk/", views.bulk, name="bulk"),
    path("views/", views.save_view, name="save_view"),
    path("views/<int:pk>/delete/", views.delete_view, name="delete_view"),
    path("report/", views.report, name="report"),
    path("report/preview/", views.preview_observables, name="preview_observables"),
    path("<str:reference>/", views.detail, name="detail"),
    path("<str:reference>/received/", views.received, name="received"),
    path("<str:reference>/notes/", views.add_note, name="add_note"),
    path("<str:reference>/tasks/", views.add_task, name="add_task"),
    path(
        "<str:reference>/tasks/<int:task_id>/complete/",
        views.complete_task,
        name="complete_task",
    ),
    path("<str:reference>/observables/", views.add_observables, name="add_observables"),
    path("<str:reference>/attachments/", views.add_attachments, name="add_attachments"),
    path("<str:reference>/attachments/<str:sha256>/", views.download, name="download_attachment"),
    path("<str:reference>/triage/", views.triage, name="triage"),
    path("<str:reference>/severity/", views.assess, name="assess"),
    path("<str:reference>/escalate/", views.escalate, name="escalate"),
    path("<str:reference>/delegate/", views.delegate, name="delegate"),
    path("<str:reference>/participants/", views.add_participant, name="add_participant"),
    path(
        "<str:reference>/participants/<slug:team>/remove/",
        views.remove_participant,
        name="remove_participant",
    ),
]
