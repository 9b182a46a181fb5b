"""GET /metrics: Prometheus' text format, for a scraper holding the token or in a listed network."""

from __future__ import annotations

import hmac
import ipaddress

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from config.metrics.collectors import DeskCollector
from config.metrics.registry import process_registry


def scrape_allowed(request: HttpRequest) -> bool:
    token = settings.METRICS_TOKEN
    sent = request.headers.get("Authorization", "")
    if token and hmac.compare_digest(sent.encode(), f"Bearer {token}".encode()):
        return True
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return any(
        address in ipaddress.ip_network(network, strict=False)
        for network in settings.METRICS_ALLOWED_NETWORKS
    )


@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    """404 to anyone not allowed (the endpoint is not advertised)."""
    if not scrape_allowed(request):
        raise Http404
    desk = CollectorRegistry(auto_describe=False)
    desk.register(DeskCollector())
    body = generate_latest(process_registry()) + generate_latest(desk)
    return HttpResponse(body, content_type=CONTENT_TYPE_LATEST)
