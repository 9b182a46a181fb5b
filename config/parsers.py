"""The API's JSON parser: DRF's, with the edge checks of `config.input_limits` (ADR 0013).

orjson parses (it refuses invalid UTF-8, lone surrogates, NaN and nesting past 1024 without
recursing); the document is then walked once for NUL characters, depth and out-of-range numbers.
The body is read up to `DATA_UPLOAD_MAX_MEMORY_SIZE` and no further, whatever the client declared.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from django.conf import settings
from rest_framework import exceptions, parsers, status

BIGINT_MAX = 2**63 - 1
BIGINT_MIN = -(2**63)


class UnsafeValue(ValueError):
    """A value the desk refuses; the message names where it was found."""


def check_json_value(value: Any, *, max_depth: int) -> None:
    """Walk a parsed JSON document without recursion; UnsafeValue for the first unsafe value."""
    stack: list[tuple[Any, int, str]] = [(value, 1, "")]
    while stack:
        item, depth, where = stack.pop()
        if isinstance(item, dict | list):
            if depth > max_depth:
                raise UnsafeValue(f"nested deeper than {max_depth} levels at {where or 'the top'}")
            if isinstance(item, dict):
                for key, inner in item.items():
                    if "\x00" in key:
                        raise UnsafeValue(f"a NUL character in a key at {where or 'the top'}")
                    stack.append((inner, depth + 1, f"{where}.{key}" if where else key))
            else:
                stack.extend((inner, depth + 1, f"{where}[{i}]") for i, inner in enumerate(item))
        elif isinstance(item, str):
            if "\x00" in item:
                raise UnsafeValue(f"a NUL character at {where or 'the top'}")
        elif isinstance(item, bool):
            continue
        elif isinstance(item, int | float) and not BIGINT_MIN <= item <= BIGINT_MAX:
            raise UnsafeValue(f"a number beyond a 64-bit integer at {where or 'the top'}")


class BodyTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "payload_too_large"


class JSONParser(parsers.JSONParser):
    def parse(
        self,
        stream: Any,
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        raw = stream.read() if limit is None else stream.read(limit + 1)
        if limit is not None and len(raw) > limit:
            raise BodyTooLarge(f"The request body is larger than {limit} bytes.")
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise exceptions.ParseError(f"JSON parse error - {exc}") from None
        try:
            check_json_value(data, max_depth=settings.JSON_MAX_DEPTH)
        except UnsafeValue as exc:
            raise exceptions.ParseError(f"Refused JSON: {exc}.") from None
        return data
