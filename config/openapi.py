"""The OpenAPI schema's shared pieces: the error envelope on every operation, list-filter
parameters, and the enum names the generated TypeScript types rely on.

`HelplineAutoSchema` (DRF's DEFAULT_SCHEMA_CLASS) adds to each operation the failures any
operation of its kind can answer: 400 when it takes input (a body or query parameters), 401 and
403 unless it is public, 404 when its path names something. Failures particular to one operation
(409, 410, 413, 429, a 403 on a public one) are declared on the view with `errors(...)`.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers
from rest_framework.permissions import AllowAny

ERROR_DESCRIPTIONS = {
    400: "validation_error: the input is not valid (details.fields names each field).",
    401: "not_authenticated: no valid session or token.",
    403: "permission_denied: the caller's role may not do this, or the CSRF token is missing.",
    404: "not_found: nothing the caller may see is there.",
    409: "conflict (or stale_position, invalid_transition, wip_limit_exceeded): the current "
    "state refuses it.",
    410: "resync_required: the history asked for is gone; reload.",
    413: "payload_too_large: the upload is too large.",
    429: "rate_limited: too many attempts; Retry-After says when to try again.",
}


class ErrorSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    details = serializers.DictField()
    request_id = serializers.CharField(allow_null=True)


class ErrorEnvelopeSerializer(serializers.Serializer):
    """`{"error": {code, message, details, request_id}}`: every failure, whatever raised it."""

    error = ErrorSerializer()


# Domain failures of views whose module another change owns (the move is being extended with
# `details.current` elsewhere): declared here rather than on the view.
EXTRA_ERRORS: dict[tuple[str, str], tuple[int, ...]] = {
    ("PATCH", "/api/v1/tickets/{ticket_id}/move/"): (409,),
}


def errors(*codes: int) -> dict[int, OpenApiResponse]:
    """Error responses for `extend_schema(responses={...})`, each with the envelope."""
    return {
        code: OpenApiResponse(ErrorEnvelopeSerializer, description=ERROR_DESCRIPTIONS[code])
        for code in codes
    }


class HelplineAutoSchema(AutoSchema):
    def get_operation(self, *args: Any, **kwargs: Any) -> dict[str, Any] | None:
        operation = super().get_operation(*args, **kwargs)
        if operation is None:
            return None
        responses = operation["responses"]
        public = any(isinstance(p, AllowAny) for p in self.view.get_permissions())
        takes_input = "requestBody" in operation or any(
            p["in"] == "query" for p in operation.get("parameters", [])
        )
        extra = EXTRA_ERRORS.get((self.method, self.path), ())
        wanted = [
            *((code, True) for code in extra),
            (400, takes_input),
            (401, not public),
            (403, not public),
            (404, "{" in self.path),
        ]
        envelope = self.resolve_serializer(ErrorEnvelopeSerializer, "response").ref
        for code, applies in wanted:
            if applies and str(code) not in responses:
                responses[str(code)] = {
                    "description": ERROR_DESCRIPTIONS[code],
                    "content": {"application/json": {"schema": envelope}},
                }
        responses["default"] = {
            "description": "server_error (500) or any other failure, in the same envelope.",
            "content": {"application/json": {"schema": envelope}},
        }
        operation["responses"] = dict(sorted(responses.items()))
        return operation
