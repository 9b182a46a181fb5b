"""WebSocket consumers: transport only (authenticate, authorize, join groups, forward)."""

from __future__ import annotations

from typing import Any

from channels.generic.websocket import AsyncJsonWebsocketConsumer

from notifications.realtime import user_group

CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403


class MeConsumer(AsyncJsonWebsocketConsumer):
    """`/ws/me/`: the user's own notifications, export progress and classification results."""

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            # Accept first: a close before accept is an HTTP 403 that carries no close code.
            await self.accept()
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        self.group = user_group(user.pk)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        await self.send_json({"type": "welcome", "user": user.username})

    async def disconnect(self, code: int) -> None:
        if hasattr(self, "group"):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if isinstance(content, dict) and content.get("type") == "ping":
            await self.send_json({"type": "pong"})

    async def user_message(self, event: dict[str, Any]) -> None:
        """A message for this user (notification, export progress, classification)."""
        await self.send_json(event["payload"])

    async def access_revoked(self, event: dict[str, Any]) -> None:
        if event.get("project_id") is None:  # the account was deactivated
            await self.close(code=CLOSE_FORBIDDEN)
