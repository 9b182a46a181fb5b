"""WebSocket authentication: the session cookie (web UI) or `?token=` (other clients)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from channels.auth import AuthMiddleware
from channels.db import database_sync_to_async
from channels.sessions import CookieMiddleware, SessionMiddleware
from django.contrib.auth.models import AnonymousUser


@database_sync_to_async
def _user_for_token(key: str) -> Any:
    from rest_framework.authtoken.models import Token

    token = Token.objects.select_related("user").filter(key=key).first()
    if token is None or not token.user.is_active:
        return AnonymousUser()
    return token.user


class TokenAuthMiddleware(AuthMiddleware):
    """Session auth first (via Channels' AuthMiddleware); a `token` query parameter wins when given."""

    async def resolve_scope(self, scope: Any) -> None:
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        token = (query.get("token") or [""])[0]
        if token:
            scope["user"]._wrapped = await _user_for_token(token)
        else:
            await super().resolve_scope(scope)


def WebSocketAuthMiddleware(inner: Any) -> Any:
    """Cookies -> session -> user (session or token)."""
    return CookieMiddleware(SessionMiddleware(TokenAuthMiddleware(inner)))
