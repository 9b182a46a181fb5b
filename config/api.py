"""The one place where errors become the API's envelope.

`{"error": {"code", "message", "details", "request_id"}}` for every failure: DRF exceptions, domain
errors raised by services, Django's own errors (see `config.middleware`) and unhandled exceptions.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, JsonResponse
from rest_framework import exceptions as drf_exceptions
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import set_rollback

_CODE_BY_STATUS = {
    400: "validation_error",
    401: "not_authenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    410: "resync_required",
    413: "payload_too_large",
    414: "uri_too_long",
    415: "unsupported_media_type",
    429: "rate_limited",
    503: "service_unavailable",
}


def error_code_for_status(status_code: int) -> str:
    """The envelope's default code for an HTTP status."""
    return _CODE_BY_STATUS.get(status_code, "server_error" if status_code >= 500 else "error")


class DomainError(Exception):
    """A business rule said no. Subclasses set the code and HTTP status; services raise them."""

    code = "conflict"
    status_code: int = status.HTTP_409_CONFLICT
    default_message = "The request conflicts with the current state."

    def __init__(self, message: str | None = None, *, details: dict[str, Any] | None = None):
        self.message = message or self.default_message
        self.details = details or {}
        super().__init__(self.message)


class InvalidInput(DomainError):
    code = "validation_error"
    status_code = status.HTTP_400_BAD_REQUEST
    default_message = "The request is not valid."


class NotFound(DomainError):
    code = "not_found"
    status_code = status.HTTP_404_NOT_FOUND
    default_message = "Not found."


class Forbidden(DomainError):
    code = "permission_denied"
    status_code = status.HTTP_403_FORBIDDEN
    default_message = "You do not have permission to perform this action."


class PayloadTooLarge(DomainError):
    code = "payload_too_large"
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_message = "The upload is too large."


class ResyncRequired(DomainError):
    code = "resync_required"
    status_code = status.HTTP_410_GONE
    default_message = "The events you asked for are no longer retained; reload the board."


def envelope(
    code: str,
    message: str,
    *,
    details: dict[str, Any] | None = None,
    request: HttpRequest | None = None,
) -> dict[str, Any]:
    """Build the error body."""
    return {
        "error": {
            "code": code,
            "message": message,
            "details": details or {},
            "request_id": getattr(request, "request_id", None),
        }
    }


def _flatten_message(detail: Any) -> str:
    """A human sentence from DRF's nested error detail (the first message found)."""
    if isinstance(detail, dict):
        for key, value in detail.items():
            inner = _flatten_message(value)
            return inner if key in ("non_field_errors", "detail") else f"{key}: {inner}"
        return "Invalid input."
    if isinstance(detail, list):
        return _flatten_message(detail[0]) if detail else "Invalid input."
    return str(detail)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's EXCEPTION_HANDLER: map every known exception to the envelope."""
    request = context.get("request")
    headers: dict[str, str] = {}
    if isinstance(exc, DomainError):
        set_rollback()
        return Response(
            envelope(exc.code, exc.message, details=exc.details, request=request),
            status=exc.status_code,
        )
    if isinstance(exc, Http404):
        exc = drf_exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = drf_exceptions.PermissionDenied()
    elif isinstance(exc, DjangoValidationError):
        exc = drf_exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
    if not isinstance(exc, drf_exceptions.APIException):
        return None  # unhandled: the middleware logs it and answers 500 in the envelope

    if isinstance(exc, drf_exceptions.Throttled):
        code = "rate_limited"
        message = "Too many attempts; try again later."
        wait = getattr(exc, "wait", None)
        if wait is not None:
            seconds = max(1, int(wait))  # DRF has already rounded it up
            headers["Retry-After"] = str(seconds)
            message = f"Too many attempts; try again in {seconds} seconds."
        details: dict[str, Any] = {}
    elif isinstance(exc, drf_exceptions.ValidationError):
        code = "validation_error"
        detail = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        details = {"fields": detail}
        message = _flatten_message(detail)
    elif isinstance(exc, drf_exceptions.ParseError):
        code = "validation_error"
        message = f"Malformed request body: {exc.detail}"
        details = {}
    elif isinstance(exc, drf_exceptions.NotAuthenticated | drf_exceptions.AuthenticationFailed):
        code = "not_authenticated"
        message = str(exc.detail)
        details = {}
    else:
        code = error_code_for_status(exc.status_code)
        message = str(exc.detail) if not isinstance(exc.detail, dict | list) else "Request failed."
        details = {}
    auth_header = getattr(exc, "auth_header", None)
    if auth_header:
        headers["WWW-Authenticate"] = auth_header
    set_rollback()
    return Response(
        envelope(code, message, details=details, request=request),
        status=exc.status_code,
        headers=headers,
    )


def csrf_failure(request: HttpRequest, reason: str = "") -> JsonResponse:
    """CSRF_FAILURE_VIEW: the envelope instead of Django's HTML page."""
    return JsonResponse(
        envelope(
            "permission_denied",
            f"CSRF verification failed ({reason}); send the CSRF token with session writes.",
            request=request,
        ),
        status=403,
    )


def not_found_view(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    """handler404 for URLs outside DRF."""
    return JsonResponse(
        envelope("not_found", "Nothing was found at this address.", request=request), status=404
    )


def server_error_view(request: HttpRequest) -> JsonResponse:
    """handler500."""
    return JsonResponse(
        envelope("server_error", "The server hit an unexpected error.", request=request),
        status=500,
    )


def bad_request_view(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    """handler400 (e.g. a disallowed Host header or a suspicious operation)."""
    return JsonResponse(
        envelope("validation_error", "The request could not be understood.", request=request),
        status=400,
    )


def permission_denied_view(
    request: HttpRequest, exception: Exception | None = None
) -> JsonResponse:
    """handler403."""
    return JsonResponse(
        envelope("permission_denied", "You may not do this.", request=request), status=403
    )
