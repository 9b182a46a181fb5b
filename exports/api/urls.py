from django.urls import URLPattern, URLResolver, path

from exports.api import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("exports/", views.ExportListView.as_view(), name="export-list"),
    path("exports/<int:export_id>/", views.ExportDetailView.as_view(), name="export-detail"),
    path(
        "exports/<int:export_id>/download/",
        views.ExportDownloadView.as_view(),
        name="export-download",
    ),
]
