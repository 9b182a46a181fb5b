"""Process health, readiness and the public meta endpoint."""

from __future__ import annotations

import time
from typing import Any

import redis
from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from drf_spectacular.utils import extend_schema
from rest_framework.decorators import api_view, authentication_classes, permission_classes
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from config import sql as statements


def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness: the process is up and answering (checks nothing else on purpose)."""
    return JsonResponse({"status": "ok"})


def _check(fn: Any) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        fn()
    except Exception as exc:
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}
    return {"ok": True, "ms": round((time.perf_counter() - started) * 1000, 2)}


def _ping_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute(statements.PING)


def _ping_redis(url: str) -> None:
    client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
    try:
        client.ping()
    finally:
        client.close()


def readyz(request: HttpRequest) -> JsonResponse:
    """Readiness: PostgreSQL, Redis and the Celery broker all answer, else 503 naming the failure."""
    checks = {
        "database": _check(_ping_database),
        "redis": _check(lambda: _ping_redis(settings.REDIS_URL)),
        "broker": _check(lambda: _ping_redis(settings.CELERY_BROKER_URL))
        if settings.CELERY_BROKER_URL.startswith(("redis://", "rediss://"))
        else _check(_ping_amqp_broker),
    }
    ok = all(check["ok"] for check in checks.values())
    return JsonResponse(
        {"status": "ok" if ok else "unavailable", "checks": checks}, status=200 if ok else 503
    )


def _ping_amqp_broker() -> None:
    from config.celery import app

    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=1)


@extend_schema(
    responses={
        200: {
            "type": "object",
            "properties": {"version": {"type": "string"}, "ws_url": {"type": "string"}},
        }
    },
    summary="Where the API version and the WebSocket server are",
)
@api_view(["GET"])
@authentication_classes([])
@permission_classes([AllowAny])
def meta(request: Request) -> Response:
    """`{version, ws_url}`: all a client needs to find the WebSocket server."""
    return Response({"version": settings.VERSION, "ws_url": settings.WS_PUBLIC_URL})
