"""A tiny keep-alive HTTP client for latency benchmarks (one connection, sequential requests)."""

from __future__ import annotations

import http.client
import json
import time
from typing import Any
from urllib.parse import urlparse


class Client:
    def __init__(self, base: str, token: str | None = None) -> None:
        parsed = urlparse(base)
        self.conn = http.client.HTTPConnection(
            parsed.hostname or "127.0.0.1", parsed.port or 80, timeout=30
        )
        self.headers = {"Content-Type": "application/json"}
        if token:
            self.headers["Authorization"] = f"Token {token}"

    def request(self, method: str, path: str, body: Any = None) -> tuple[int, bytes, float]:
        """One request; returns (status, body, milliseconds)."""
        payload = json.dumps(body).encode() if body is not None else None
        started = time.perf_counter()
        self.conn.request(method, path, body=payload, headers=self.headers)
        response = self.conn.getresponse()
        data = response.read()
        return response.status, data, (time.perf_counter() - started) * 1000

    def close(self) -> None:
        self.conn.close()
