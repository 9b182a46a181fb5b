"""Request id, one structured log line per request, and the error envelope for non-DRF errors."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable

import structlog
from django.core.exceptions import (
    BadRequest,
    PermissionDenied,
    RequestDataTooBig,
    SuspiciousOperation,
)
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from psycopg.errors import LockNotAvailable, QueryCanceled

from config.api import envelope, error_code_for_status
from config.clientaddr import client_address
from config.context import RequestFacts, current_request

logger = structlog.get_logger("helpline.request")

_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


class RequestIdMiddleware:
    """Accept or make an `X-Request-ID`, log the request, and wrap any error in the envelope.

    It sits first so that it sees every response, including Django's own 404/405/500 pages and
    CSRF failures, and turns each into `{"error": {...}}` with the same request id the log has.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _VALID_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id  # type: ignore[attr-defined]
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        token = current_request.set(
            RequestFacts(ip_address=client_address(request.META), request_id=request_id)
        )
        started = time.perf_counter()
        try:
            response = self.get_response(request)
        finally:
            current_request.reset(token)
        if response.status_code >= 400 and not _is_json(response):
            response = _as_envelope(request, response)
        response["X-Request-ID"] = request_id
        user = getattr(request, "user", None)
        logger.info(
            "request",
            method=request.method,
            path=request.path,
            status=response.status_code,
            duration_ms=round((time.perf_counter() - started) * 1000, 2),
            user=user.get_username() if user is not None and user.is_authenticated else None,
        )
        structlog.contextvars.clear_contextvars()  # the server's own next lines are not this request's
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        """An exception no view handled: log it with its traceback, answer 500 in the envelope.

        Django's own control-flow exceptions (404, 403, 400) keep their status: Django answers
        them and `__call__` wraps that answer in the envelope. An oversized body is a 413.
        """
        if isinstance(exception, RequestDataTooBig):
            return JsonResponse(
                envelope("payload_too_large", "The request body is too large.", request=request),
                status=413,
            )
        if isinstance(exception, Http404 | PermissionDenied | SuspiciousOperation | BadRequest):
            return None
        if isinstance(exception, OperationalError | InterfaceError):
            # The database went away mid-request (restart, failover, a terminated backend): the
            # connection is discarded at the end of this request and the next one reconnects.
            # Or it cancelled a statement past the web guard (WEB_DB_*_TIMEOUT_MS).
            timed_out = isinstance(exception.__cause__, QueryCanceled | LockNotAvailable)
            logger.warning(
                "database_timeout" if timed_out else "database_unavailable",
                path=request.path,
                error=str(exception),
            )
            message = (
                "The database did not answer in time (a long query or a busy record); "
                "try again in a moment."
                if timed_out
                else "The database is unavailable; try again in a moment."
            )
            response = JsonResponse(
                envelope("service_unavailable", message, request=request), status=503
            )
            response["Retry-After"] = "1"
            return response
        logger.exception("unhandled_exception", path=request.path, method=request.method)
        return JsonResponse(
            envelope(
                "server_error",
                "The server hit an unexpected error; it has been logged.",
                request=request,
            ),
            status=500,
        )


def _is_json(response: HttpResponse) -> bool:
    return response.get("Content-Type", "").startswith("application/json")


_MESSAGES = {
    400: "The request could not be understood.",
    401: "Authentication credentials were not provided or are invalid.",
    403: "You do not have permission to perform this action.",
    404: "Nothing was found at this address.",
    405: "This method is not allowed here.",
    413: "The request body is too large.",
    429: "Too many requests; slow down.",
}


def _as_envelope(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    status = response.status_code
    message = _MESSAGES.get(status, "The server could not complete the request.")
    if status == 403 and getattr(request, "csrf_failure_reason", None):
        message = "CSRF verification failed; send the CSRF token with session-authenticated writes."
    new = JsonResponse(
        envelope(error_code_for_status(status), message, request=request), status=status
    )
    # Every header the inner middleware set (security headers, Allow, Retry-After, ...) stays.
    for header, value in response.items():
        if header.lower() not in ("content-type", "content-length"):
            new[header] = value
    for cookie in response.cookies.values():
        new.cookies[cookie.key] = cookie
    return new
