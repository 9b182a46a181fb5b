from django.urls import path

from notifications import consumers

websocket_urlpatterns = [
    path("ws/me/", consumers.MeConsumer.as_asgi()),
    path("ws/projects/<str:key>/board/", consumers.BoardConsumer.as_asgi()),
]
