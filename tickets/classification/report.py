"""Per-class precision of the suggestions, from what agents did with them (feedback rows).

Only the latest feedback per (ticket, field) counts: an agent who changes a category twice judged
the suggestion once. Precision of a class = suggestions of that class the agent kept / all
suggestions of that class that got feedback.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, F, Q, QuerySet

from tickets.models import ClassificationFeedback, Project


@dataclass(frozen=True)
class PrecisionRow:
    project: str
    field: str
    group: str  # a suggested class, or a source for the per-source lines
    reviewed: int
    accepted: int

    @property
    def precision(self) -> float:
        return self.accepted / self.reviewed if self.reviewed else 0.0

    def as_dict(self) -> dict[str, object]:
        return {
            "project": self.project,
            "field": self.field,
            "group": self.group,
            "reviewed": self.reviewed,
            "accepted": self.accepted,
            "precision": round(self.precision, 4),
        }


def latest_feedback(project: Project | None = None) -> QuerySet[ClassificationFeedback]:
    """The newest feedback row of each (ticket, field)."""
    qs = ClassificationFeedback.objects.all()
    if project is not None:
        qs = qs.filter(ticket__project=project)
    latest = (
        qs.order_by("ticket_id", "field", "-created_at", "-id")
        .distinct("ticket_id", "field")
        .values("id")
    )
    return ClassificationFeedback.objects.filter(pk__in=latest)


def _rows(qs: QuerySet[ClassificationFeedback], group: str) -> list[PrecisionRow]:
    counted = (
        qs.values("ticket__project__key", "field", group)
        .annotate(reviewed=Count("id"), accepted=Count("id", filter=Q(suggested=F("final"))))
        .order_by("ticket__project__key", "field", group)
    )
    return [
        PrecisionRow(
            project=row["ticket__project__key"],
            field=row["field"],
            group=row[group],
            reviewed=row["reviewed"],
            accepted=row["accepted"],
        )
        for row in counted
    ]


def precision_by_class(project: Project | None = None) -> list[PrecisionRow]:
    """One row per (project, field, suggested class)."""
    return _rows(latest_feedback(project), "suggested")


def precision_by_source(project: Project | None = None) -> list[PrecisionRow]:
    """One row per (project, field, source): how good each classifier of the chain has been."""
    return _rows(latest_feedback(project), "source")
