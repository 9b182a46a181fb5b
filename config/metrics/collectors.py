"""Series computed when scraped: queue depths, SLA health, the Redis counters, open sockets.

They describe the whole desk, not one process, so any web process answers them the same.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import structlog
from django.db.models import Max, Min, Q
from django.utils import timezone
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from config.metrics.counters import read_counters
from config.metrics.websockets import open_sockets

logger = structlog.get_logger("helpline.metrics")


def desk_queues() -> list[str]:
    """The default queue and every queue a route names."""
    from django.conf import settings

    from config.celery import app

    routed = {route["queue"] for route in (app.conf.task_routes or {}).values()}
    return sorted({settings.CELERY_TASK_DEFAULT_QUEUE, *routed})


def queue_depths(queues: list[str]) -> dict[str, int]:
    """Messages waiting in each queue, through kombu: Redis list lengths or RabbitMQ counts."""
    from config.celery import app

    depths = {}
    with app.connection_for_read() as conn:
        for queue in queues:
            try:
                declared = conn.default_channel.queue_declare(queue=queue, passive=True)
                depths[queue] = int(declared.message_count)
            except conn.channel_errors:  # RabbitMQ: a queue nobody declared yet
                depths[queue] = 0
                conn.close()
    return depths


def _unflagged_overdue(now: Any) -> Any:
    """The earliest due instant that has passed without a breach being recorded (or None)."""
    from sla.models import TicketSla

    running = Q(paused_at__isnull=True, stopped_at__isnull=True)
    first_response = Q(fr_due_at__lt=now, fr_breached_at__isnull=True, fr_met_at__isnull=True)
    resolution = Q(res_due_at__lt=now, res_breached_at__isnull=True, res_met_at__isnull=True)
    # A pending breach keeps next_check_at at or before its due instant (the scan's index).
    pending = TicketSla.objects.filter(running, next_check_at__lte=now)
    earliest = [
        pending.filter(first_response).aggregate(at=Min("fr_due_at"))["at"],
        pending.filter(resolution).aggregate(at=Min("res_due_at"))["at"],
    ]
    found = [at for at in earliest if at is not None]
    return min(found) if found else None


class DeskCollector(Collector):
    def collect(self) -> Iterator[Metric]:
        yield from self._queues()
        yield from self._sla()
        yield from self._counters()
        sockets = GaugeMetricFamily(
            "helpline_websockets_open", "Open WebSockets, all ws processes."
        )
        sockets.add_metric([], open_sockets())
        yield sockets

    def _queues(self) -> Iterator[Metric]:
        depth = GaugeMetricFamily(
            "helpline_celery_queue_length", "Tasks waiting in a Celery queue.", labels=["queue"]
        )
        try:
            for queue, count in queue_depths(desk_queues()).items():
                depth.add_metric([queue], count)
        except Exception:  # the broker is down: no depths this scrape, the rest still answers
            logger.warning("metrics_broker_unavailable", exc_info=True)
            return
        yield depth

    def _sla(self) -> Iterator[Metric]:
        from sla.models import SlaScanRun

        now = timezone.now()
        finished = SlaScanRun.objects.aggregate(at=Max("finished_at"))["at"]
        last = GaugeMetricFamily(
            "helpline_sla_scan_last_finished_timestamp_seconds",
            "When the last SLA scan finished (Unix time).",
        )
        lag = GaugeMetricFamily(
            "helpline_sla_scan_lag_seconds", "Seconds since the last SLA scan finished."
        )
        if finished is not None:
            last.add_metric([], finished.timestamp())
            lag.add_metric([], (now - finished).total_seconds())
        due = _unflagged_overdue(now)
        oldest = GaugeMetricFamily(
            "helpline_sla_unflagged_overdue_oldest_seconds",
            "Age of the oldest due instant that passed without a recorded breach (0: none).",
        )
        oldest_at = GaugeMetricFamily(
            "helpline_sla_unflagged_overdue_oldest_due_timestamp_seconds",
            "That due instant (Unix time; absent when there is none).",
        )
        oldest.add_metric([], (now - due).total_seconds() if due is not None else 0.0)
        if due is not None:
            oldest_at.add_metric([], due.timestamp())
        yield from (last, lag, oldest, oldest_at)

    def _counters(self) -> Iterator[Metric]:
        counters = read_counters()
        families = {
            "webhook_attempts": CounterMetricFamily(
                "helpline_webhook_attempts",
                "Webhook delivery attempts by outcome (succeeded, retry, failed).",
                labels=["outcome"],
            ),
            "exports": CounterMetricFamily(
                "helpline_exports", "Exports that succeeded, by format.", labels=["format"]
            ),
            "export_rows": CounterMetricFamily(
                "helpline_export_rows", "Rows written by succeeded exports.", labels=["format"]
            ),
            "export_bytes": CounterMetricFamily(
                "helpline_export_bytes", "Bytes written by succeeded exports.", labels=["format"]
            ),
            "export_seconds": CounterMetricFamily(
                "helpline_export_seconds", "Run time of succeeded exports.", labels=["format"]
            ),
        }
        for (name, label), value in sorted(counters.items()):
            if name in families:
                families[name].add_metric([label], value)
        yield from families.values()
