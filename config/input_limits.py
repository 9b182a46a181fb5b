"""Hostile input refused once, at the edge, before any view or query sees it (ADR 0013).

Two places see every request's input: `InputLimitsMiddleware` (the path, the query string and the
declared body size) and `config.parsers.JSONParser` (every JSON body). Both refuse with a 4xx in
the envelope what PostgreSQL or the interpreter would otherwise fail on with a 500:

- a NUL character anywhere (PostgreSQL's text and jsonb cannot hold one);
- JSON nested deeper than `JSON_MAX_DEPTH` (it reaches nothing the API stores, and deep values
  overflow recursive code further on: the renderer, the jsonb encoder);
- a JSON number beyond a bigint (every id and counter is one; larger numbers are refused rather
  than rounded);
- a query string longer than `QUERY_STRING_MAX_BYTES` (414), a body declared larger than
  `DATA_UPLOAD_MAX_MEMORY_SIZE` that is not a multipart upload (413).
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

from config.api import envelope


def _refusal(request: HttpRequest, status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse(envelope(code, message, request=request), status=status)


class InputLimitsMiddleware:
    """The path, the query string and the declared body size, checked before anything reads them."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        refusal = self.refusal(request)
        if refusal is not None:
            return refusal
        return self.get_response(request)

    def refusal(self, request: HttpRequest) -> HttpResponse | None:
        query = request.META.get("QUERY_STRING", "")
        if len(query) > settings.QUERY_STRING_MAX_BYTES:
            return _refusal(
                request,
                414,
                "uri_too_long",
                f"The query string is longer than {settings.QUERY_STRING_MAX_BYTES} bytes.",
            )
        if "\x00" in request.path_info:
            return _refusal(request, 400, "validation_error", "The path holds a NUL character.")
        for name, values in request.GET.lists():
            if "\x00" in name or any("\x00" in value for value in values):
                return _refusal(
                    request,
                    400,
                    "validation_error",
                    f"The query parameter {name.replace(chr(0), '')!r} holds a NUL character.",
                )
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is not None and not (request.content_type or "").startswith("multipart/"):
            try:
                declared = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                declared = 0
            if declared > limit:
                _drain(request, declared)
                return _refusal(
                    request,
                    413,
                    "payload_too_large",
                    f"The request body is larger than {limit} bytes.",
                )
        return None


def _drain(request: HttpRequest, declared: int) -> None:
    """Read and drop a refused body, so the client, still sending, gets to read the answer."""
    stream = request.META.get("wsgi.input")
    remaining = min(declared, settings.REFUSED_BODY_DRAIN_BYTES)
    while stream is not None and remaining > 0:
        chunk = stream.read(min(remaining, 1 << 16))
        if not chunk:
            break
        remaining -= len(chunk)
