"""The orjson renderer writes what DRF's JSONRenderer writes (no database needed)."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from decimal import Decimal

from django.utils.translation import gettext_lazy
from rest_framework.renderers import JSONRenderer
from rest_framework.utils.serializer_helpers import ReturnDict

from config.renderers import FastJSONRenderer


def test_same_bytes_as_drf_for_every_kind_of_value():
    payload = {
        "utc": dt.datetime(2026, 3, 29, 1, 30, 5, 123456, tzinfo=dt.UTC),
        "berlin": dt.datetime(2026, 3, 29, 3, 30, tzinfo=dt.timezone(dt.timedelta(hours=2))),
        "naive": dt.datetime(2026, 1, 2, 3, 4, 5),
        "day": dt.date(2026, 2, 28),
        "time": dt.time(9, 15),
        "amount": Decimal("12.50"),
        "id": uuid.UUID("12345678-1234-5678-1234-567812345678"),
        "lazy": gettext_lazy("Not found."),
        "text": 'Größe ✓ "quoted" \n',
        "nested": ReturnDict({"a": [1, 2.5, None, True]}, serializer=None),  # type: ignore[call-overload]
        "tuple": (1, 2),
        7: "int key",
    }
    ours = FastJSONRenderer().render(payload)
    drf = JSONRenderer().render(payload)
    assert json.loads(ours) == json.loads(drf)
    assert ours == drf
    assert b'"utc":"2026-03-29T01:30:05.123456Z"' in ours


def test_empty_body_and_indent_request():
    assert FastJSONRenderer().render(None) == b""
    pretty = FastJSONRenderer().render({"a": 1}, "application/json; indent=2")
    assert pretty == b'{\n  "a": 1\n}'
