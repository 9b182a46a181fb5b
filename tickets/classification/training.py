"""Training a project's local models from the tickets people labelled, or from a CSV file.

Which tickets teach the model (the rule, also in docs/classification.md): a ticket's current
category (priority) is a label when a person stands behind it:

* an agent set it or confirmed it on a classified ticket (a `ClassificationFeedback` row), or
* a person changed it after creation (a `ticket.updated` audit row naming the field; only staff
  may change these fields), or
* a staff member (agent and up, or a site admin) created the ticket and chose it explicitly (the
  classification notes the fields the creator set in `explicit`).

Values the classifier applied on its own and that nobody touched are not labels: a model must not
learn from its own guesses. Category labels no longer among the project's categories are skipped.
"""

from __future__ import annotations

import csv
import hashlib
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import structlog
from django.conf import settings
from django.db.models import Exists, OuterRef, Q

from config.redis import redis_lock
from tickets.classification import local_model
from tickets.classification.base import PRIORITIES, ticket_text
from tickets.classification.local import TARGETS, active_row, store_model
from tickets.models import (
    AuditLog,
    ClassificationFeedback,
    ClassifierModel,
    Membership,
    Project,
    Ticket,
)
from tickets.selectors import STAFF_ROLES

logger = structlog.get_logger(__name__)

# Fewer labelled tickets than this: the nightly retrain leaves the project on its current model.
MIN_TRAINING_TICKETS: Final = 20
# The newest labelled tickets only: bounds training time on a desk with a long history.
MAX_TRAINING_TICKETS: Final = 50_000
TRAIN_LOCK_SECONDS: Final = 1800


@dataclass(frozen=True)
class TrainingOutcome:
    """What a training run did: `model` is the active row, `status` one of trained/unchanged/skipped."""

    target: str
    status: str
    samples: int
    model: ClassifierModel | None = None
    reason: str = ""


def labelled_tickets(project: Project, target: str) -> tuple[list[str], list[str]]:
    """(texts, labels) of the project's tickets whose `target` a person set or confirmed."""
    if target not in TARGETS:
        raise ValueError(f"target must be one of {TARGETS}")
    staff = Membership.objects.filter(project=project, role__in=STAFF_ROLES).values("user_id")
    confirmed = Exists(ClassificationFeedback.objects.filter(ticket=OuterRef("pk"), field=target))
    changed = Exists(
        AuditLog.objects.filter(
            ticket_id=OuterRef("pk"), action="ticket.updated", payload__new__has_key=target
        )
    )
    chosen_by_staff = Q(classification__explicit__contains=[target]) & (
        Q(created_by__in=staff) | Q(created_by__is_superuser=True)
    )
    allowed = project.categories if target == "category" else list(PRIORITIES)
    rows = (
        Ticket.objects.filter(project=project, **{f"{target}__in": allowed})
        .filter(Q(confirmed) | Q(changed) | chosen_by_staff)
        .order_by("-pk")
        .values_list("title", "description", target)[:MAX_TRAINING_TICKETS]
        .using(settings.READ_REPLICA)  # a large read that tolerates replication lag
    )
    texts: list[str] = []
    labels: list[str] = []
    for title, description, label in rows:
        texts.append(ticket_text(title, description))
        labels.append(label)
    return texts, labels


def fingerprint(texts: list[str], labels: list[str]) -> str:
    """A hash of a training set: the same set twice is trained once."""
    digest = hashlib.sha256()
    for text, label in sorted(zip(texts, labels, strict=True)):
        digest.update(b"\x1e" + text.encode("utf-8", "surrogatepass"))
        digest.update(b"\x1f" + label.encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


def train_and_store(
    *,
    project: Project,
    target: str,
    texts: list[str],
    labels: list[str],
    source: str,
    cv_folds: int = 0,
    min_samples: int = 2,
) -> TrainingOutcome:
    """Train on (texts, labels) and make the result the active model, unless nothing changed."""
    if len(texts) < min_samples:
        return TrainingOutcome(
            target, "skipped", len(texts), reason=f"{len(texts)} labelled (< {min_samples})"
        )
    digest = fingerprint(texts, labels)
    current = active_row(project.pk, target)
    if current is not None:
        row = ClassifierModel.objects.filter(pk=current[0]).only("metrics").first()
        stored_metrics = (row.metrics or {}) if row is not None else {}
        # The same data is trained once, unless the stored blob is of a format this code no
        # longer loads (models from before a FORMAT_VERSION bump carry an older or no number).
        if (
            row is not None
            and stored_metrics.get("training_fingerprint") == digest
            and stored_metrics.get("format_version") == local_model.FORMAT_VERSION
        ):
            return TrainingOutcome(target, "unchanged", len(texts), model=row)
    try:
        model = local_model.train(texts, labels, cv_folds=cv_folds)
    except local_model.NotEnoughData as exc:
        return TrainingOutcome(target, "skipped", len(texts), reason=str(exc))
    model.metrics.update({"training_fingerprint": digest, "training_source": source})
    stored = store_model(project=project, target=target, model=model)
    logger.info(
        "classifier_trained",
        project=project.key,
        target=target,
        version=model.version,
        samples=len(texts),
        seconds=model.metrics.get("train_seconds"),
    )
    return TrainingOutcome(target, "trained", len(texts), model=stored)


def train_project(
    project: Project,
    *,
    targets: tuple[str, ...] = TARGETS,
    min_samples: int = MIN_TRAINING_TICKETS,
    cv_folds: int = 0,
) -> list[TrainingOutcome]:
    """Retrain a project's models from its labelled tickets (one run per project at a time)."""
    outcomes: list[TrainingOutcome] = []
    with redis_lock(f"classifier-train:{project.pk}", timeout=TRAIN_LOCK_SECONDS) as acquired:
        if not acquired:
            return [
                TrainingOutcome(t, "skipped", 0, reason="another training runs") for t in targets
            ]
        for target in targets:
            texts, labels = labelled_tickets(project, target)
            outcomes.append(
                train_and_store(
                    project=project,
                    target=target,
                    texts=texts,
                    labels=labels,
                    source="tickets",
                    cv_folds=cv_folds,
                    min_samples=min_samples,
                )
            )
    return outcomes


def read_labelled_csv(
    path: Path, *, text_column: str = "text", label_column: str = "category", limit: int = 0
) -> tuple[list[str], list[str]]:
    """(texts, labels) from a CSV with a header; rows with an empty text or label are skipped."""
    csv.field_size_limit(sys.maxsize)
    texts: list[str] = []
    labels: list[str] = []
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        header = reader.fieldnames or []
        missing = [c for c in (text_column, label_column) if c not in header]
        if missing:
            raise ValueError(f"{path} has no column {', '.join(missing)} (it has {header})")
        for row in _rows(reader, limit):
            text, label = (
                (row.get(text_column) or "").strip(),
                (row.get(label_column) or "").strip(),
            )
            if text and label:
                texts.append(text)
                labels.append(label)
    return texts, labels


def _rows(reader: csv.DictReader[str], limit: int) -> Iterator[dict[str, Any]]:
    for i, row in enumerate(reader):
        if limit and i >= limit:
            return
        yield row
