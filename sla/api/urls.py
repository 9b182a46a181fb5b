from django.urls import URLPattern, URLResolver, path

from sla.api import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("calendars/", views.CalendarListView.as_view(), name="calendar-list"),
    path("calendars/<int:pk>/", views.CalendarDetailView.as_view(), name="calendar-detail"),
    path(
        "projects/<str:key>/sla-policies/", views.PolicyListView.as_view(), name="sla-policy-list"
    ),
    path(
        "projects/<str:key>/sla-policies/<int:pk>/",
        views.PolicyDetailView.as_view(),
        name="sla-policy-detail",
    ),
    path("tickets/<int:pk>/sla/", views.TicketSlaView.as_view(), name="ticket-sla"),
]
