"""Root URLs: /api/v1/ (the contract), schema and docs, health, admin; the web UI for the rest."""

from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from config import frontend, views

handler400 = "config.api.bad_request_view"
handler403 = "config.api.permission_denied_view"
handler404 = "config.api.not_found_view"
handler500 = "config.api.server_error_view"

api_v1: list[URLPattern | URLResolver] = [
    path("meta/", views.meta, name="meta"),
    path("", include("tickets.api.urls")),
    path("", include("sla.api.urls")),
    path("", include("notifications.api.urls")),
    path("", include("exports.api.urls")),
    path("", include("saved_views.urls")),
]

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("admin/", admin.site.urls),
    # Last: any other path is a client route of the web UI (a deep link works on a full load).
    re_path(rf"^(?!{frontend.SERVER_PREFIXES}).*$", frontend.app, name="web-ui"),
]
