"""Which handshake origins may carry the session cookie (the rule; the live tests show it end to
end in notifications/tests/test_realtime_browser.py)."""

from __future__ import annotations

from urllib.parse import urlparse

import pytest

from notifications.auth import BrowserOriginValidator

DEV = ["localhost", "127.0.0.1", "[::1]"]  # the ALLOWED_HOSTS default under DEBUG


def allowed(origin: str | None, patterns: list[str]) -> bool:
    validator = BrowserOriginValidator(application=None, allowed_origins=patterns)
    return validator.valid_origin(urlparse(origin) if origin is not None else None)


@pytest.mark.parametrize(
    ("origin", "expected"),
    [
        ("http://127.0.0.1:8000", True),  # the UI's origin, sockets on :8001
        ("http://localhost:5173", True),  # Vite's dev server
        ("http://[::1]:8000", True),
        ("http://evil.example", False),
        ("http://127.0.0.1.evil.example", False),
        ("null", False),  # sandboxed frames, file:// pages
        (None, True),  # not a browser: passes, and then only a token authenticates
    ],
)
def test_the_allowed_hosts_patterns(origin, expected):
    assert allowed(origin, DEV) is expected


@pytest.mark.parametrize(
    ("origin", "expected"),
    [
        ("https://desk.example.com", True),
        ("https://desk.example.com:443", True),
        ("http://desk.example.com", False),
        ("https://desk.example.com:8443", False),
        ("https://other.example.com", False),
    ],
)
def test_an_explicit_origin_fixes_scheme_host_and_port(origin, expected):
    assert allowed(origin, ["https://desk.example.com"]) is expected


def test_a_wildcard_allows_everything():
    assert allowed("http://evil.example", ["*"]) is True
