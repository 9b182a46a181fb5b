"""The local model in the database: store a trained model, load the active one, classify with it.

A project has at most one active `ClassifierModel` per target ("category", "priority"). Loading a
blob costs tens of milliseconds, so each process keeps the models it loaded, keyed by row id: a
classification costs one small query (which rows are active?) plus ~0.3 ms of prediction.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Final

import structlog
from django.db import transaction

from tickets.classification import local_model
from tickets.classification.base import (
    PRIORITIES,
    FieldGuess,
    KeywordClassifier,
    Suggestion,
    TicketText,
)
from tickets.models import ClassifierModel, Project

logger = structlog.get_logger(__name__)

TARGETS: Final = ("category", "priority")
# Inactive versions kept per (project, target) for rollback; older ones are deleted.
KEEP_INACTIVE: Final = 3
_CACHE_SIZE: Final = 16

_lock = threading.Lock()
_loaded: OrderedDict[int, local_model.TrainedModel] = OrderedDict()


def active_rows(project_id: int) -> dict[str, tuple[int, str]]:
    """target -> (row id, version) of the project's active models, in one query, without blobs."""
    rows = (
        ClassifierModel.objects.filter(project_id=project_id, target__in=TARGETS, is_active=True)
        .order_by("target", "-created_at", "-id")
        .distinct("target")
        .values_list("target", "pk", "version")
    )
    return {str(target): (int(pk), str(version)) for target, pk, version in rows}


def active_row(project_id: int, target: str) -> tuple[int, str] | None:
    """(row id, version) of the project's active model for a target, without its blob."""
    return active_rows(project_id).get(target)


def load_model(pk: int, version: str) -> local_model.TrainedModel | None:
    """A stored model by row id (loaded once per process), or None when it cannot be read."""
    with _lock:
        model = _loaded.get(pk)
        if model is not None:
            _loaded.move_to_end(pk)
            return model
    blob = ClassifierModel.objects.filter(pk=pk).values_list("blob", flat=True).first()
    if blob is None:
        return None
    try:
        model = local_model.loads(bytes(blob))
    except local_model.ModelFormatError as exc:
        logger.warning("classifier_blob_unreadable", model_id=pk, version=version, error=str(exc))
        return None
    with _lock:
        _loaded[pk] = model
        while len(_loaded) > _CACHE_SIZE:
            _loaded.popitem(last=False)
    return model


def active_model(project_id: int, target: str) -> local_model.TrainedModel | None:
    """The active trained model of a project for a target, or None when there is none."""
    row = active_row(project_id, target)
    return load_model(*row) if row is not None else None


def forget_loaded_models() -> None:
    """Drop this process's loaded models (tests; memory pressure)."""
    with _lock:
        _loaded.clear()


def store_model(
    *, project: Project, target: str, model: local_model.TrainedModel
) -> ClassifierModel:
    """Save a trained model as the project's active one for `target` (same version: reactivated)."""
    if target not in TARGETS:
        raise ValueError(f"target must be one of {TARGETS}")
    with transaction.atomic():
        # Serialise the writers of one project: two trainings must not both end up active.
        Project.objects.select_for_update().filter(pk=project.pk).values_list("pk").first()
        row, created = ClassifierModel.objects.get_or_create(
            project=project,
            target=target,
            version=model.version,
            defaults={
                "blob": local_model.dumps(model),
                "metrics": model.metrics,
                "labels": list(model.labels),
                "is_active": True,
            },
        )
        if not created and not row.is_active:
            row.is_active = True
            row.save(update_fields=["is_active"])
        ClassifierModel.objects.filter(project=project, target=target, is_active=True).exclude(
            pk=row.pk
        ).update(is_active=False)
        stale = list(
            ClassifierModel.objects.filter(project=project, target=target, is_active=False)
            .order_by("-created_at", "-id")
            .values_list("pk", flat=True)[KEEP_INACTIVE:]
        )
        if stale:
            ClassifierModel.objects.filter(pk__in=stale).delete()
    return row


class LocalClassifier:
    """The project's trained category model (and priority model, else the keywords' priority)."""

    source = "local"
    # Predicting takes a fraction of a millisecond: a Redis round trip (and a write) costs more.
    cacheable = False

    def __init__(
        self,
        category_model: local_model.TrainedModel,
        priority_model: local_model.TrainedModel | None = None,
    ) -> None:
        self.category_model = category_model
        self.priority_model = priority_model
        self.version = category_model.version + (
            f"+{priority_model.version}" if priority_model is not None else ""
        )

    @classmethod
    def for_project(cls, project_id: int) -> LocalClassifier | None:
        """The classifier of a project that has an active category model, else None."""
        rows = active_rows(project_id)
        category_model = load_model(*rows["category"]) if "category" in rows else None
        if category_model is None:
            return None
        priority_model = load_model(*rows["priority"]) if "priority" in rows else None
        return cls(category_model, priority_model)

    def classify(self, ticket: TicketText) -> Suggestion | None:
        text = ticket.text
        predicted = local_model.predict(self.category_model, text)
        if predicted.label not in ticket.categories:
            # Trained before the project's categories changed: the model cannot answer.
            logger.info("local_model_label_not_allowed", label=predicted.label)
            return None
        category = FieldGuess(
            predicted.label, predicted.confidence, self.source, self.category_model.version
        )
        priority: FieldGuess | None = None
        if self.priority_model is not None:
            guess = local_model.predict(self.priority_model, text)
            if guess.label in PRIORITIES:
                priority = FieldGuess(
                    guess.label, guess.confidence, self.source, self.priority_model.version
                )
        if priority is None:
            priority = KeywordClassifier().priority_guess(ticket)
        return Suggestion(category=category, priority=priority)
