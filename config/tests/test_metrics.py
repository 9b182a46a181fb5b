"""GET /metrics: who may scrape, and each series' exact value after known events."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.test import Client, override_settings
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from config.metrics.counters import record_export, record_webhook_attempt
from tests_support.factories import make_ticket

TOKEN = "scrape-secret-1"


def scrape() -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of one scrape: (name, sorted labels) -> value."""
    with override_settings(METRICS_TOKEN=TOKEN):
        response = Client().get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def only(samples: dict[Any, float], name: str) -> dict[tuple[tuple[str, str], ...], float]:
    return {labels: value for (n, labels), value in samples.items() if n == name}


@pytest.mark.django_db
def test_only_a_token_holder_or_a_listed_network_may_scrape():
    client = Client()
    assert client.get("/metrics").status_code == 404  # nothing configured: not exposed
    with override_settings(METRICS_TOKEN=TOKEN):
        assert client.get("/metrics").status_code == 404
        assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 404
        assert client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 200
        assert client.post("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 405
    with override_settings(METRICS_ALLOWED_NETWORKS=["10.0.0.0/8"]):
        assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 200
        assert client.get("/metrics", REMOTE_ADDR="192.168.1.1").status_code == 404
    body = client.get("/metrics").json()
    assert body["error"]["code"] == "not_found"


@pytest.mark.django_db
def test_request_latency_is_counted_by_route_pattern_not_by_path(desk):
    agent = desk["agent"]
    ids = [make_ticket(desk["project"], agent, title=f"t{n}").pk for n in range(3)]
    client = Client()
    client.force_login(agent)
    name = "helpline_http_request_duration_seconds_count"
    route = (("method", "GET"), ("route", "/api/v1/tickets/<int:ticket_id>/"), ("status", "200"))
    missing = (("method", "GET"), ("route", "<unmatched>"), ("status", "404"))
    before = only(scrape(), name)
    for ticket_id in ids:
        assert client.get(f"/api/v1/tickets/{ticket_id}/").status_code == 200
    assert client.get("/api/v1/no/such/page/4711").status_code == 404
    after = only(scrape(), name)
    assert after[route] - before.get(route, 0) == 3
    assert after[missing] - before.get(missing, 0) == 1
    raw = {"4711", *(f"/{ticket_id}/" for ticket_id in ids)}
    assert not [labels for labels in after if any(r in v for _, v in labels for r in raw)]


@pytest.mark.django_db
def test_queue_depths_are_the_waiting_messages_of_each_desk_queue():
    from tickets.tasks import ping_task

    assert only(scrape(), "helpline_celery_queue_length") == {
        (("queue", "helpline"),): 0,
        (("queue", "sla"),): 0,
    }
    for n in range(3):
        ping_task.apply_async((str(n),))
    ping_task.apply_async(("s",), queue="sla")
    assert only(scrape(), "helpline_celery_queue_length") == {
        (("queue", "helpline"),): 3,
        (("queue", "sla"),): 1,
    }


@pytest.mark.django_db
def test_sla_scan_lag_and_the_oldest_overdue_ticket_without_a_breach(desk):
    from sla.models import SlaScanRun, TicketSla

    samples = scrape()
    assert ("helpline_sla_scan_last_finished_timestamp_seconds", ()) not in samples
    assert samples[("helpline_sla_unflagged_overdue_oldest_seconds", ())] == 0
    finished = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    SlaScanRun.objects.create(slot=1, started_at=finished, finished_at=finished)
    SlaScanRun.objects.create(slot=2, started_at=finished, finished_at=None)  # still running
    ticket = make_ticket(desk["project"], desk["agent"], title="late")
    due = timezone.now().replace(microsecond=0) - timedelta(hours=2)
    TicketSla.objects.update_or_create(
        ticket=ticket,
        defaults={
            "project": desk["project"],
            "fr_due_at": due,
            "next_check_at": due,
            "paused_at": None,
            "stopped_at": None,
        },
    )
    samples = scrape()
    assert samples[("helpline_sla_scan_last_finished_timestamp_seconds", ())] == (
        finished.timestamp()
    )
    assert (
        samples[("helpline_sla_scan_lag_seconds", ())]
        >= (timezone.now() - finished).total_seconds() - 60
    )
    assert samples[("helpline_sla_unflagged_overdue_oldest_due_timestamp_seconds", ())] == (
        due.timestamp()
    )
    assert 7200 <= samples[("helpline_sla_unflagged_overdue_oldest_seconds", ())] < 7200 + 300
    # Flagged (the scan recorded the breach): no longer counted.
    TicketSla.objects.filter(ticket=ticket).update(fr_breached_at=due)
    samples = scrape()
    assert samples[("helpline_sla_unflagged_overdue_oldest_seconds", ())] == 0
    assert ("helpline_sla_unflagged_overdue_oldest_due_timestamp_seconds", ()) not in samples


@pytest.mark.django_db
def test_worker_side_counters_are_summed_from_redis():
    for outcome in ("succeeded", "succeeded", "retry", "failed"):
        record_webhook_attempt(outcome)
    record_export(fmt="csv", rows=1000, size=52_000, seconds=1.5)
    record_export(fmt="csv", rows=500, size=26_000, seconds=0.5)
    record_export(fmt="jsonl", rows=7, size=900, seconds=0.25)
    samples = scrape()
    assert only(samples, "helpline_webhook_attempts_total") == {
        (("outcome", "failed"),): 1,
        (("outcome", "retry"),): 1,
        (("outcome", "succeeded"),): 2,
    }
    assert only(samples, "helpline_export_rows_total") == {
        (("format", "csv"),): 1500,
        (("format", "jsonl"),): 7,
    }
    assert only(samples, "helpline_export_bytes_total") == {
        (("format", "csv"),): 78_000,
        (("format", "jsonl"),): 900,
    }
    assert only(samples, "helpline_exports_total") == {
        (("format", "csv"),): 2,
        (("format", "jsonl"),): 1,
    }
    assert only(samples, "helpline_export_seconds_total") == {
        (("format", "csv"),): 2.0,
        (("format", "jsonl"),): 0.25,
    }


@pytest.mark.django_db(transaction=True)
def test_a_real_delivery_attempt_is_counted_once_it_commits(desk):
    from notifications.models import Webhook, WebhookDelivery
    from notifications.webhooks.delivery import attempt_delivery

    hook = Webhook.objects.create(
        project=desk["project"], url="http://127.0.0.1:9/hook", events=["*"], secret="whsec_AA=="
    )
    delivery = WebhookDelivery.objects.create(
        webhook=hook,
        message_id="msg_metrics_1",
        event_type="ticket.moved",
        payload=json.dumps({"id": "msg", "type": "ticket.moved", "timestamp": "t", "data": {}}),
    )
    assert only(scrape(), "helpline_webhook_attempts_total") == {}
    outcome = attempt_delivery(delivery.pk)
    assert outcome == ("failed", None)  # a loopback address is refused
    assert only(scrape(), "helpline_webhook_attempts_total") == {(("outcome", "failed"),): 1}
