"""Background work of the notifications app."""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone


@shared_task(acks_late=True)
def prune_board_events_task() -> int:
    """Keep the board event log bounded: older than the retention window, or past the per-project cap."""
    from notifications.services import prune_board_events

    return prune_board_events(
        older_than=timezone.now() - timedelta(days=settings.BOARD_EVENT_RETENTION_DAYS),
        keep_per_project=settings.BOARD_EVENT_RETENTION_COUNT,
    )
