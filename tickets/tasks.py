"""Background work of the hub: rank rebalancing and ticket classification."""

from __future__ import annotations

import structlog
from celery import shared_task
from django.db import InterfaceError, OperationalError

from config.redis import get_redis, redis_lock

logger = structlog.get_logger(__name__)

REBALANCE_LOCK_SECONDS = 600


def queue_rebalance(project_id: int) -> None:
    """Queue one rebalance of a project after commit (deduplicated for ten minutes)."""
    if get_redis().set(f"rebalance-queued:{project_id}", 1, nx=True, ex=REBALANCE_LOCK_SECONDS):
        rebalance_project_task.delay_on_commit(project_id)


def rebalance_now(project_id: int) -> int:
    """Rebalance synchronously (a move whose key grew past the hard limit waits for this)."""
    from tickets.services.ranks import rebalance_project

    with redis_lock(f"rebalance:{project_id}", timeout=REBALANCE_LOCK_SECONDS, blocking=True):
        return rebalance_project(project_id)


@shared_task(acks_late=True, max_retries=3, default_retry_delay=30)
def rebalance_project_task(project_id: int) -> int:
    """Rebalance one project's ranks under its Redis lock (a second run while one runs is a no-op)."""
    from tickets.services.ranks import rebalance_project

    get_redis().delete(f"rebalance-queued:{project_id}")
    with redis_lock(f"rebalance:{project_id}", timeout=REBALANCE_LOCK_SECONDS) as acquired:
        if not acquired:
            logger.info("rebalance_skipped_locked", project_id=project_id)
            return 0
        return rebalance_project(project_id)


@shared_task(acks_late=True)
def rebalance_all_projects_task() -> int:
    """Nightly: rebalance every project (queued one task per project)."""
    from tickets.models import Project

    ids = list(Project.objects.values_list("pk", flat=True))
    for project_id in ids:
        rebalance_project_task.delay(project_id)
    return len(ids)


@shared_task(
    acks_late=True,
    autoretry_for=(OperationalError, InterfaceError),
    max_retries=3,
    retry_backoff=True,
    retry_jitter=True,
)
def classify_ticket_task(ticket_id: int, *, apply_category: bool, apply_priority: bool) -> None:
    """Classify a new ticket, store the suggestion and apply what passes the threshold.

    Idempotent: a ticket that already has a classification is left alone (a redelivered task is
    a no-op). Classifiers never raise; only a database outage retries the task.
    """
    from tickets.classification.service import classify_new_ticket

    classify_new_ticket(
        ticket_id=ticket_id, apply_category=apply_category, apply_priority=apply_priority
    )


@shared_task(acks_late=True)
def retrain_classifiers_task() -> int:
    """Nightly: queue a retraining of every project's local classifier (one task per project)."""
    from tickets.models import Project

    ids = list(Project.objects.values_list("pk", flat=True))
    for project_id in ids:
        train_project_classifiers_task.delay(project_id)
    return len(ids)


@shared_task(acks_late=True)
def train_project_classifiers_task(project_id: int) -> dict[str, str]:
    """Retrain one project's models from its labelled tickets (unchanged data: no-op)."""
    from tickets.classification.training import train_project
    from tickets.models import Project

    project = Project.objects.filter(pk=project_id).first()
    if project is None:
        return {}
    return {outcome.target: outcome.status for outcome in train_project(project)}


@shared_task(ignore_result=False)  # the one result anything reads (tests, health probes)
def ping_task(value: str) -> str:
    """A trivial task the foundation's tests run through a real worker."""
    return f"pong:{value}"


@shared_task(acks_late=True)
def compact_ticket_counts_task() -> int:
    """Fold the board-count deltas (every minute from beat)."""
    from tickets.services.projects import compact_ticket_counts

    return compact_ticket_counts()
