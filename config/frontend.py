"""The web UI's entry page: `frontend/dist/index.html` for every client route (history fallback).

The hashed assets it references live under `/static/ui/` (whitenoise, cached for a year); the page
itself is never cached, so a new build reaches browsers at once. It also sets the CSRF cookie the
app echoes on unsafe requests.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_safe

from config.api import envelope

# Paths the app never answers: everything else is a client route.
SERVER_PREFIXES = r"api/|admin/|static/|media/|healthz$|readyz$|metrics$"

_cache: dict[Path, tuple[float, bytes]] = {}


def _index_html() -> bytes | None:
    path = Path(settings.FRONTEND_DIST) / "index.html"
    try:
        mtime = path.stat().st_mtime
    except FileNotFoundError:
        return None
    cached = _cache.get(path)
    if cached is None or cached[0] != mtime:
        cached = (mtime, path.read_bytes())
        _cache[path] = cached
    return cached[1]


@require_safe
@ensure_csrf_cookie
def app(request: HttpRequest) -> HttpResponse:
    body = _index_html()
    if body is None:
        # In the error envelope like every other failure (the middleware would replace an HTML one).
        response: HttpResponse = JsonResponse(
            envelope(
                "service_unavailable",
                "The web UI is not built: run `make ui` (or `make run`).",
                request=request,
            ),
            status=503,
        )
    else:
        response = HttpResponse(body, content_type="text/html; charset=utf-8")
    response["Cache-Control"] = "no-cache"
    return response
