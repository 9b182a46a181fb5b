"""ASGI entry point: the WebSocket server (uvicorn). HTTP is routed too, for completeness, but the
API is served by gunicorn: a sync DRF request costs several times more CPU under ASGI."""

from __future__ import annotations

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from config.metrics.websockets import OpenSocketsMiddleware  # noqa: E402
from notifications.auth import WebSocketAuthMiddleware  # noqa: E402
from notifications.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": OpenSocketsMiddleware(
            WebSocketAuthMiddleware(URLRouter(websocket_urlpatterns))
        ),
    }
)
