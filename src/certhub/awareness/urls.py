from django.urls import path

from certhub.awareness import views

app_name = "awareness"

urlpatterns = [
    path("", views.index, name="index"),
    path("reports/", views.report_list, name="reports"),
    path("reports/<int:pk>.pdf", views.report_download, name="report_download"),
    # national/ and council/
    path("<slug:audience>/", views.dashboard, name="dashboard"),
    path("<slug:audience>/plots/<slug:name>.svg", views.plot, name="plot"),
    path("<slug:audience>/data/<slug:name>.csv", views.data, name="data"),
    path("<slug:audience>/export.xlsx", views.export, name="export"),
    # team/<slug>/ and organization/<slug>/
    path("<slug:audience>/<slug:key>/", views.dashboard, name="dashboard_of"),
    path("<slug:audience>/<slug:key>/plots/<slug:name>.svg", views.plot, name="plot_of"),
    path("<slug:audience>/<slug:key>/data/<slug:name>.csv", views.data, name="data_of"),
    path("<slug:audience>/<slug:key>/export.xlsx", views.export, name="export_of"),
]
