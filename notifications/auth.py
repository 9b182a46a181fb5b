"""WebSocket authentication: the session cookie (browsers, from an allowed `Origin`) or `?token=`.

A browser always sends `Origin` on a WebSocket handshake and attaches the site's cookies whatever
page opened the socket, so a cookie is only believed with an allowed origin: a foreign origin is
refused at the handshake (HTTP 403, Channels' OriginValidator), and a handshake with no `Origin`
at all (a script, not a browser) authenticates by token only. ADR 0010.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import ParseResult, parse_qs

from channels.auth import AuthMiddleware
from channels.db import database_sync_to_async
from channels.security.websocket import OriginValidator
from channels.sessions import CookieMiddleware, SessionMiddleware
from django.conf import settings
from django.contrib.auth.models import AnonymousUser


@database_sync_to_async
def _user_for_token(key: str) -> Any:
    from rest_framework.authtoken.models import Token

    token = Token.objects.select_related("user").filter(key=key).first()
    if token is None or not token.user.is_active:
        return AnonymousUser()
    return token.user


def _has_origin(scope: Any) -> bool:
    return any(name == b"origin" for name, _ in scope.get("headers", []))


class TokenAuthMiddleware(AuthMiddleware):
    """A `token` query parameter when given; else the session, but only for a browser (an
    `Origin` the validator in front has already allowed)."""

    async def resolve_scope(self, scope: Any) -> None:
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        token = (query.get("token") or [""])[0]
        if token:
            scope["user"]._wrapped = await _user_for_token(token)
        elif _has_origin(scope):
            await super().resolve_scope(scope)
        else:
            scope["user"]._wrapped = AnonymousUser()


class BrowserOriginValidator(OriginValidator):
    """Channels' OriginValidator, except that no `Origin` at all passes (a non-browser client,
    which then needs a token)."""

    def valid_origin(self, parsed_origin: ParseResult | None) -> bool:
        if parsed_origin is None:
            return True
        return bool(self.validate_origin(parsed_origin))


def WebSocketAuthMiddleware(inner: Any) -> Any:
    """Origin check -> cookies -> session -> user (session or token)."""
    return BrowserOriginValidator(
        CookieMiddleware(SessionMiddleware(TokenAuthMiddleware(inner))),
        list(settings.WS_ALLOWED_ORIGINS),
    )
