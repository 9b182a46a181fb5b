from django.urls import URLPattern, URLResolver, path

from notifications.api import events, views

WEBHOOK = "projects/<str:key>/webhooks/<int:webhook_id>/"

urlpatterns: list[URLPattern | URLResolver] = [
    path("projects/<str:key>/events/", events.BoardEventsView.as_view(), name="board-events"),
    path("notifications/", views.NotificationListView.as_view(), name="notification-list"),
    path(
        "notifications/unread-count/",
        views.NotificationUnreadCountView.as_view(),
        name="notification-unread-count",
    ),
    path(
        "notifications/read-all/",
        views.NotificationReadAllView.as_view(),
        name="notification-read-all",
    ),
    path(
        "notifications/<int:pk>/read/",
        views.NotificationReadView.as_view(),
        name="notification-read",
    ),
    path(
        "notification-preferences/",
        views.NotificationPreferencesView.as_view(),
        name="notification-preferences",
    ),
    path("projects/<str:key>/webhooks/", views.WebhookListView.as_view(), name="webhook-list"),
    path(WEBHOOK, views.WebhookDetailView.as_view(), name="webhook-detail"),
    path(f"{WEBHOOK}test/", views.WebhookTestView.as_view(), name="webhook-test"),
    path(
        f"{WEBHOOK}rotate-secret/",
        views.WebhookRotateSecretView.as_view(),
        name="webhook-rotate-secret",
    ),
    path(
        f"{WEBHOOK}deliveries/",
        views.WebhookDeliveryListView.as_view(),
        name="webhook-delivery-list",
    ),
    path(
        f"{WEBHOOK}deliveries/<int:delivery_id>/",
        views.WebhookDeliveryDetailView.as_view(),
        name="webhook-delivery-detail",
    ),
    path(
        f"{WEBHOOK}deliveries/<int:delivery_id>/redeliver/",
        views.WebhookRedeliverView.as_view(),
        name="webhook-redeliver",
    ),
]
