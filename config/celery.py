"""The Celery app and the desk's periodic schedule, in one place.

Beat runs from the database (django-celery-beat's DatabaseScheduler): `BEAT_SCHEDULE` below is the
default cadence, written into the database by `manage.py sync_schedules` (run by `make run` and the
container entrypoint) without overwriting what an admin has since changed.
"""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("helpline")
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
    task_track_started=True,
    broker_connection_retry_on_startup=True,
    worker_cancel_long_running_tasks_on_connection_loss=True,
    beat_scheduler="django_celery_beat.schedulers:DatabaseScheduler",
)
app.autodiscover_tasks()


# name -> (task, seconds between runs, description). Admins change cadences in the admin
# (Periodic tasks); `manage.py sync_schedules` creates missing rows and leaves edited ones alone.
BEAT_SCHEDULE: dict[str, tuple[str, float, str]] = {
    "rebalance-ranks-nightly": (
        "tickets.tasks.rebalance_all_projects_task",
        24 * 3600,
        "Rebalance every project's ticket ranks (keeps keys short).",
    ),
    "prune-board-events": (
        "notifications.tasks.prune_board_events_task",
        3600,
        "Drop board events past the retention window (7 days / 100k per project).",
    ),
}
