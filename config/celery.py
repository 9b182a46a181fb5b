"""The Celery app and the desk's periodic schedule, in one place.

Beat runs from the database (django-celery-beat's DatabaseScheduler): `BEAT_SCHEDULE` below is the
default cadence, written into the database by `manage.py sync_schedules` (run by `make run` and the
container entrypoint) without overwriting what an admin has since changed.
"""

from __future__ import annotations

import os
from functools import partial
from typing import Any

import structlog
from celery import Celery, Task

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

from django.conf import settings
from django.db import transaction

from config import task_context

logger = structlog.get_logger(__name__)


class DeskTask(Task):
    """The desk's task base: `delay_on_commit` never turns a committed change into an error.

    Celery's own version raises from the on-commit hook when the broker refuses the message, so a
    request whose change was already committed would answer 500. Here the refusal is logged
    (`task_enqueue_failed`, with the task's name) and the request answers as it should. Most work
    is picked up again without the message: pending exports are failed with a message by their
    watchdog, webhook deliveries and e-mails are relayed from the outbox, SLA scans and
    escalations run on beat. Two are not: a lost classification leaves the ticket without a
    suggestion, and a lost SLA recompute after a policy edit leaves running tickets on their old
    due times until the next change (`manage.py sla_recompute` redoes it; the log line says when).
    """

    def delay_on_commit(self, *args: Any, **kwargs: Any) -> None:
        transaction.on_commit(partial(self._enqueue_committed, args, kwargs))

    def _enqueue_committed(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        try:
            self.apply_async(args, kwargs)
        except Exception as exc:
            logger.exception("task_enqueue_failed", task=self.name, error=repr(exc))


app = Celery("helpline", task_cls=DeskTask)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.update(
    # Reliability baseline: a task is acknowledged after it ran, so a killed worker's task is
    # redelivered; one task prefetched at a time so a long task does not hoard others.
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    result_expires=3600,
    # Nothing reads a task's result except `ping_task` and `relay_outbox_task` (which opt back
    # in; tests read them): no result-backend write per task.
    task_ignore_result=True,
    # Soft shutdown (Celery >= 5.5): on a cold shutdown (SIGQUIT, or SIGTERM with the
    # environment's REMAP_SIGTERM=SIGQUIT as the compose file sets) the running tasks get up to
    # WORKER_SOFT_SHUTDOWN_TIMEOUT seconds, then the unfinished ones go back to the broker at
    # once instead of waiting out the visibility timeout (an hour with Redis).
    worker_soft_shutdown_timeout=settings.WORKER_SOFT_SHUTDOWN_TIMEOUT,
    worker_max_tasks_per_child=settings.WORKER_MAX_TASKS_PER_CHILD or None,
    # Logging is Django's LOGGING (config/logging.py): Celery installs no handlers of its own.
    worker_hijack_root_logger=False,
    broker_connection_retry_on_startup=True,
    worker_cancel_long_running_tasks_on_connection_loss=True,
    beat_scheduler="django_celery_beat.schedulers:DatabaseScheduler",
    # Beat writes last_run_at after every task it sends (not every 3 minutes): the container
    # healthcheck (`manage.py healthcheck beat`) reads it.
    beat_sync_every=1,
    # The SLA scan has a worker of its own: a backlog of e-mails or webhooks must never delay a
    # breach (measured: 72 s late on the shared queue under a 2,000-task backlog).
    task_routes={"sla.tasks.scan_sla_task": {"queue": "sla"}},
)
app.autodiscover_tasks()
task_context.connect()


# name -> (task, seconds between runs, description). Admins change cadences in the admin
# (Periodic tasks); `manage.py sync_schedules` creates missing rows and leaves edited ones alone.
BEAT_SCHEDULE: dict[str, tuple[str, float, str]] = {
    "rebalance-ranks-nightly": (
        "tickets.tasks.rebalance_all_projects_task",
        24 * 3600,
        "Rebalance every project's ticket ranks (keeps keys short).",
    ),
    "sla-scan": (
        "sla.tasks.scan_sla_task",
        30,
        "SLA scan: near-breach warnings, breaches and escalation levels that fell due.",
    ),
    "compact-ticket-counts": (
        "tickets.tasks.compact_ticket_counts_task",
        60,
        "Fold the board's per-status ticket-count deltas into one row each.",
    ),
    "prune-board-events": (
        "notifications.tasks.prune_board_events_task",
        3600,
        "Drop board events past the retention window (7 days / 100k per project).",
    ),
    "relay-notification-outbox": (
        "notifications.tasks.relay_outbox_task",
        30,
        "Queue e-mails and webhook deliveries no task picked up (crash between commit and enqueue).",
    ),
    "retrain-classifiers-nightly": (
        "tickets.tasks.retrain_classifiers_task",
        24 * 3600,
        "Retrain each project's local ticket classifier from the tickets agents labelled.",
    ),
    "prune-notification-outbox": (
        "notifications.tasks.prune_notification_outbox_task",
        24 * 3600,
        "Drop finished webhook deliveries, sent e-mails and old read notifications.",
    ),
    "export-watchdog": (
        "exports.tasks.export_watchdog_task",
        60,
        "Fail exports stuck pending/running past their limits; requeue those whose worker died.",
    ),
    "expire-exports": (
        "exports.tasks.expire_exports_task",
        3600,
        "Delete export files past their expiry (EXPORT_RETENTION_HOURS) and mark the jobs expired.",
    ),
}
