"""Signing in: API tokens for integrations, the session cookie for the browser, and the throttles.

The browser's flow: `GET auth/csrf/` (sets the `csrftoken` cookie), `POST auth/session/` with the
`X-CSRFToken` header (sets `sessionid`, rotates `csrftoken`), then every unsafe request carries
`X-CSRFToken`; `DELETE auth/session/` signs out. Token requests are never CSRF-checked: no browser
sends an `Authorization` header on its own. ADR 0010 has the reasons.
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate, login, logout
from django.middleware.csrf import get_token
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.authtoken.models import Token
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView

from config.clientaddr import client_address
from config.openapi import errors
from tickets.api.people import MeSerializer, me_payload
from tickets.models import User

WRONG_CREDENTIALS = "Wrong username or password."


def _username(request: Request) -> str:
    data = request.data if isinstance(request.data, dict) else {}
    return str(data.get("username", ""))[:150].lower()


class LoginUsernameThrottle(SimpleRateThrottle):
    """`LOGIN_RATE` attempts per username (any address): no password spraying from many hosts."""

    scope = "login_username"

    def get_rate(self) -> str:
        return str(settings.LOGIN_RATE)

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        digest = hashlib.sha256(_username(request).encode()).hexdigest()[:32]
        return f"throttle_login_user_{digest}"


class LoginAddressThrottle(SimpleRateThrottle):
    """`LOGIN_ADDRESS_RATE` attempts per client address (any username; TRUSTED_PROXY_COUNT says
    which address that is)."""

    scope = "login_address"

    def get_rate(self) -> str:
        return str(settings.LOGIN_ADDRESS_RATE)

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        return f"throttle_login_addr_{client_address(request.META)}"


LOGIN_THROTTLES = [LoginAddressThrottle, LoginUsernameThrottle]


class CredentialsSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=256, trim_whitespace=False)


def authenticated_user(request: Request) -> User:
    """The active user the body's credentials name; a 400 with one message otherwise."""
    data = CredentialsSerializer(data=request.data)
    data.is_valid(raise_exception=True)
    user = authenticate(
        request._request,
        username=data.validated_data["username"],
        password=data.validated_data["password"],
    )
    if user is None or not user.is_active:
        raise serializers.ValidationError({"non_field_errors": [WRONG_CREDENTIALS]})
    return user


class TokenView(APIView):
    """`POST {username, password}` -> `{"token"}`."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    throttle_classes = LOGIN_THROTTLES

    @extend_schema(
        operation_id="auth_token_create",
        request=CredentialsSerializer,
        responses={
            200: inline_serializer("TokenResponse", {"token": serializers.CharField()}),
            **errors(429),
        },
    )
    def post(self, request: Request) -> Response:
        token, _ = Token.objects.get_or_create(user=authenticated_user(request))
        return Response({"token": token.key})


class SessionView(APIView):
    """`POST` signs in with the session cookie; `DELETE` signs out."""

    permission_classes = [AllowAny]

    def get_authenticators(self) -> list[Any]:
        # Signing in reads no credentials but the body's; signing out honours the session (and
        # so its CSRF check) or a token.
        if self.request is not None and self.request.method == "POST":
            return []
        return super().get_authenticators()

    def get_throttles(self) -> list[Any]:
        if self.request is not None and self.request.method == "POST":
            return [throttle() for throttle in LOGIN_THROTTLES]
        return []

    @extend_schema(
        operation_id="auth_session_create",
        request=CredentialsSerializer,
        responses={200: MeSerializer, **errors(403, 429)},
        summary="Sign in with the session cookie (send X-CSRFToken from GET auth/csrf/)",
    )
    def post(self, request: Request) -> Response:
        # Login CSRF: a foreign page must not sign the browser in as someone else.
        SessionAuthentication().enforce_csrf(request)
        user = authenticated_user(request)
        login(request._request, user, backend="django.contrib.auth.backends.ModelBackend")
        return Response(me_payload(user))

    @extend_schema(
        operation_id="auth_session_destroy",
        request=None,
        responses={
            204: OpenApiResponse(description="Signed out (also when not signed in)."),
            **errors(403),
        },
        summary="Sign out",
    )
    def delete(self, request: Request) -> Response:
        logout(request._request)
        return Response(status=status.HTTP_204_NO_CONTENT)


class CsrfView(APIView):
    """`GET` sets the `csrftoken` cookie the browser echoes as `X-CSRFToken`."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="auth_csrf_retrieve",
        responses={204: OpenApiResponse(description="The csrftoken cookie is set.")},
        summary="Set the CSRF cookie",
    )
    def get(self, request: Request) -> Response:
        get_token(request._request)  # makes CsrfViewMiddleware send the cookie
        return Response(status=status.HTTP_204_NO_CONTENT)
