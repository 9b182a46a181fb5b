"""Reliability with real Celery worker processes on the real broker (Redis) and PostgreSQL."""

from __future__ import annotations

import os
import signal
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db import transaction

from config.redis import get_redis
from notifications.models import BoardEvent, Notification
from sla.models import SlaEscalation, SlaEvent, SlaScanRun
from sla.services.scan import run_scan
from sla.tasks import process_sla_escalations_task, scan_sla_task
from sla.tests.conftest import restart_at
from tests_support.live import celery_worker, wait_for
from tickets.models import AuditLog, Ticket

# Generous limits: these start real processes, and a loaded CI box is slow, not wrong.
pytestmark = [
    pytest.mark.live,
    pytest.mark.django_db(transaction=True),
    pytest.mark.timeout(300),
]

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
WORKER_ENV = {"EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend"}


def queue_drained() -> bool:
    redis = get_redis()
    return redis.llen(settings.CELERY_TASK_DEFAULT_QUEUE) == 0 and redis.hlen("unacked") == 0


def pool_children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def test_fifty_scan_tasks_for_one_slot_on_real_workers_do_the_work_once(ticket_for):
    for _ in range(12):
        restart_at(ticket_for("critical"), T0)
    with celery_worker(concurrency=2, **WORKER_ENV):
        for _ in range(50):
            scan_sla_task.delay(slot=777)
        wait_for(
            lambda: (
                SlaEvent.objects.filter(delivered_at__isnull=False, kind="breached").count() == 24
                and SlaEscalation.objects.filter(outcome="escalated").count() == 24
            ),
            what="delivery and escalations",
        )
        wait_for(queue_drained, what="the queue to drain")
    assert list(SlaScanRun.objects.values_list("slot", "breached", "escalations")) == [
        (777, 24, 24)
    ]
    assert SlaEvent.objects.filter(kind="warned").count() == 24
    assert SlaEvent.objects.filter(kind="breached").count() == 24
    assert BoardEvent.objects.filter(type="sla.breached").count() == 24
    assert BoardEvent.objects.filter(type="sla.escalated").count() == 24
    assert AuditLog.objects.filter(action="ticket.escalated").count() == 24


def test_a_worker_killed_mid_escalation_batch_escalates_each_level_exactly_once(ticket_for):
    tickets = [restart_at(ticket_for("critical"), T0).ticket for _ in range(20)]
    result = run_scan(now=T0 + timedelta(hours=5), use_lock=False, dispatch=False)
    ids = sorted(result.escalation_ids)
    assert len(ids) == 40
    # Block the ticket whose first level comes latest-but-one-quarter into the batch.
    first_position: dict[int, int] = {}
    for position, ticket_id in enumerate(
        SlaEscalation.objects.order_by("pk").values_list("ticket_id", flat=True)
    ):
        first_position.setdefault(ticket_id, position)
    blocker = min(
        (position, ticket_id)
        for ticket_id, position in first_position.items()
        if position >= len(ids) // 4
    )[1]
    with celery_worker(concurrency=1, **WORKER_ENV) as worker:
        # Let the tickets' own follow-up tasks (classification) finish: one of them would wait on
        # the lock below and hold the only pool process.
        wait_for(queue_drained, what="the creation tasks")
        with transaction.atomic():
            # Hold one ticket mid-batch: the worker commits the chunks before it, then waits.
            Ticket.objects.select_for_update().get(pk=blocker)
            process_sla_escalations_task.delay(ids, chunk_size=4)
            wait_for(
                lambda: SlaEscalation.objects.filter(processed_at__isnull=False).count() >= 8,
                what="the first chunks",
            )
            done_before_kill = SlaEscalation.objects.filter(processed_at__isnull=False).count()
            assert 0 < done_before_kill < 40
            children = pool_children(worker.pid)
            assert len(children) == 1
            os.kill(children[0], signal.SIGKILL)
            wait_for(lambda: pool_children(worker.pid) not in ([], children), what="a new child")
        # Lock released: the redelivered task finishes the batch.
        wait_for(
            lambda: SlaEscalation.objects.filter(processed_at__isnull=True).count() == 0,
            what="redelivery to finish",
        )
        wait_for(queue_drained, what="the queue to drain")
    assert SlaEscalation.objects.filter(outcome="escalated").count() == 40
    assert AuditLog.objects.filter(action="ticket.escalated").count() == 40
    assert BoardEvent.objects.filter(type="sla.escalated").count() == 40
    assert SlaEvent.objects.filter(kind="escalated").count() == 40
    per_ticket = {
        t.pk: sorted(
            SlaEvent.objects.filter(ticket_id=t.pk, kind="escalated").values_list("metric", "level")
        )
        for t in tickets
    }
    assert set(map(tuple, per_ticket.values())) == {(("first_response", 1), ("resolution", 1))}
    events = set(
        Notification.objects.filter(kind="sla.escalated").values_list("event_id", flat=True)
    )
    assert len(events) == 40  # one notification event per level, never a second
    assert all(
        t.escalation_level == 1 for t in Ticket.objects.filter(pk__in=[t.pk for t in tickets])
    )
