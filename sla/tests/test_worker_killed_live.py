"""A whole Celery worker (main process and pool) killed with SIGKILL mid-escalation batch, then a
new worker started: the unacknowledged task comes back after the visibility timeout and every
escalation level is carried out exactly once. (A killed pool process alone: test_live.py.)"""

from __future__ import annotations

import os
import signal
import time
from datetime import timedelta

import pytest
from django.db import transaction

from notifications.models import BoardEvent, Notification
from sla.models import SlaEscalation, SlaEvent
from sla.services.scan import run_scan
from sla.tasks import process_sla_escalations_task
from sla.tests.conftest import restart_at
from sla.tests.test_live import T0, WORKER_ENV, queue_drained, wait_for
from tests_support.live import celery_worker
from tickets.models import AuditLog, Ticket

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True), pytest.mark.timeout(300)]

VISIBILITY = 2  # seconds before Redis hands an unacknowledged task to another worker


def processed() -> int:
    return SlaEscalation.objects.filter(processed_at__isnull=False).count()


def test_a_worker_killed_whole_mid_escalation_escalates_each_level_once_after_a_restart(
    ticket_for,
):
    tickets = [restart_at(ticket_for("critical"), T0).ticket for _ in range(12)]
    ids = sorted(
        run_scan(now=T0 + timedelta(hours=5), use_lock=False, dispatch=False).escalation_ids
    )
    assert len(ids) == 24
    # The ticket whose first level comes after the first two chunks (levels are done
    # in pk order, four to a chunk): the chunks before it commit, then the worker waits on it.
    first_position: dict[int, int] = {}
    for position, ticket_id in enumerate(
        SlaEscalation.objects.order_by("pk").values_list("ticket_id", flat=True)
    ):
        first_position.setdefault(ticket_id, position)
    blocker = min((p, t) for t, p in first_position.items() if p >= 8)[1]  # two chunks first
    env = {**WORKER_ENV, "CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY)}
    with celery_worker(concurrency=1, **env) as first:
        wait_for(queue_drained, what="the creation tasks")
        with transaction.atomic():
            # Hold one ticket mid-batch: the worker commits the chunks before it, then waits.
            Ticket.objects.select_for_update().get(pk=blocker)
            process_sla_escalations_task.delay(ids, chunk_size=4)
            wait_for(lambda: processed() >= 8, what="the first chunks")
            os.killpg(first.pid, signal.SIGKILL)
            first.wait()
        done_before_restart = processed()
    assert 8 <= done_before_restart < 24
    time.sleep(VISIBILITY + 1)
    assert processed() == done_before_restart  # nobody else works: the rest waits for a worker
    with celery_worker(concurrency=1, **env):
        wait_for(lambda: processed() == 24, what="the redelivered batch")
        wait_for(queue_drained, what="the queue to drain")
    assert SlaEscalation.objects.filter(outcome="escalated").count() == 24
    assert AuditLog.objects.filter(action="ticket.escalated").count() == 24
    assert BoardEvent.objects.filter(type="sla.escalated").count() == 24
    assert SlaEvent.objects.filter(kind="escalated").count() == 24
    events = Notification.objects.filter(kind="sla.escalated").values_list("event_id", flat=True)
    assert len(set(events)) == 24  # one notification event per level, never a second
    assert (
        sorted(
            Ticket.objects.filter(pk__in=[t.pk for t in tickets]).values_list(
                "escalation_level", flat=True
            )
        )
        == [1] * 12
    )
