"""One webhook attempt over HTTP: pinned address, no redirects, short timeouts, bounded reading."""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import lru_cache

import httpx

from notifications.webhooks.urlsafety import Target


@dataclass(frozen=True)
class Limits:
    connect_timeout: float
    read_timeout: float
    total_timeout: float
    max_response_bytes: int


@dataclass(frozen=True)
class AttemptResult:
    status_code: int | None
    body_excerpt: str
    error: str
    duration_ms: int
    retry_after: str | None


@lru_cache(maxsize=1)
def _client() -> httpx.Client:
    """One client per process: building the TLS context is the costly part, so it is shared.

    Every request still says `connection: close`: a pooled connection is keyed by the address, and
    one opened (and TLS-verified) for another hostname at that address must not be reused.
    """
    return httpx.Client(follow_redirects=False, trust_env=False)


def post(target: Target, *, headers: dict[str, str], body: bytes, limits: Limits) -> AttemptResult:
    """POST `body` to the first checked address of `target`; never raises for network trouble.

    The connection goes to the address that passed the SSRF check, with the original Host header
    (and TLS server name), so a second DNS answer cannot redirect it. Redirects are not followed:
    a 3xx is the receiver's answer. At most `max_response_bytes` of the body are read, and reading
    stops once `total_timeout` has passed, so a slow-drip receiver cannot hold a worker.
    """
    address = target.addresses[0]
    timeout = httpx.Timeout(
        connect=limits.connect_timeout,
        read=limits.read_timeout,
        write=limits.read_timeout,
        pool=limits.connect_timeout,
    )
    request_headers = {
        **headers,
        "host": target.host_header,
        "user-agent": "Helpline-Webhooks/1.0",
        "connection": "close",
        # Raw bytes only: a compressed answer could expand far past the bound we read.
        "accept-encoding": "identity",
    }
    extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
    started = time.monotonic()
    chunks: list[bytes] = []
    try:
        with _client().stream(
            "POST",
            target.url_for(address),
            content=body,
            headers=request_headers,
            extensions=extensions,
            timeout=timeout,
            follow_redirects=False,
        ) as response:
            read = 0
            for chunk in response.iter_raw():
                chunks.append(chunk[: limits.max_response_bytes - read])
                read += len(chunk)
                if read >= limits.max_response_bytes:
                    break
                if time.monotonic() - started > limits.total_timeout:
                    break
            return AttemptResult(
                status_code=response.status_code,
                body_excerpt=b"".join(chunks).decode("utf-8", errors="replace"),
                error="",
                duration_ms=_elapsed_ms(started),
                retry_after=response.headers.get("retry-after"),
            )
    except httpx.HTTPError as exc:
        return AttemptResult(
            status_code=None,
            body_excerpt="",
            error=f"{type(exc).__name__}: {exc}"[:500],
            duration_ms=_elapsed_ms(started),
            retry_after=None,
        )


def _elapsed_ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
