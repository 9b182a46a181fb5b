"""Request latency by route: the URL pattern Django resolved, never the raw path."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from prometheus_client import Histogram

REQUEST_SECONDS = Histogram(
    "helpline_http_request_duration_seconds",
    "Time to answer an HTTP request, by resolved route pattern, method and status.",
    ["route", "method", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "<unmatched>"  # no URL pattern matched (a 404 before any view)


def route_of(request: HttpRequest) -> str:
    match = getattr(request, "resolver_match", None)
    return f"/{match.route}" if match is not None else UNMATCHED


class RequestMetricsMiddleware:
    """Observes each request's duration under its route pattern (`/api/v1/tickets/<int:pk>/`)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        method = request.method if request.method in METHODS else "OTHER"
        REQUEST_SECONDS.labels(route_of(request), method, str(response.status_code)).observe(
            time.perf_counter() - started
        )
        return response
