"""The workflow rules a status change obeys: transitions, lifecycle times, the column layout
and WIP limits."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from config.api import InvalidInput
from tickets.models import Project, Status, StatusCategory, Ticket
from tickets.selectors import columns_of, status_counts
from tickets.services.errors import InvalidTransition, WipLimitExceeded


def status_by_key(key: Any) -> Status:
    """The status of that key (400 if none)."""
    status = Status.objects.filter(key=key).first() if isinstance(key, str) else None
    if status is None:
        raise InvalidInput(
            f"Unknown status {key!r}.", details={"fields": {"status": ["Unknown status."]}}
        )
    return status


def check_transition(project: Project, old: Status, new: Status) -> None:
    """Raise InvalidTransition unless the project's workflow allows old -> new."""
    if old.pk == new.pk:
        return
    allowed = (project.workflow or {}).get(old.key)
    if allowed is not None and new.key not in allowed:
        raise InvalidTransition(
            f"{old.name} can only move to: {', '.join(allowed) or 'nothing'}.",
            details={"from": old.key, "to": new.key, "allowed": allowed},
        )


def apply_status(ticket: Ticket, new: Status, *, now: Any) -> list[str]:
    """Set the status and the lifecycle times it implies; returns the fields changed."""
    old = ticket.status
    if old.pk == new.pk:
        return []
    ticket.status = new
    fields = ["status"]
    entering_done = new.category == StatusCategory.DONE and old.category != StatusCategory.DONE
    leaving_done = old.category == StatusCategory.DONE and new.category != StatusCategory.DONE
    if entering_done:
        ticket.resolved_at = now
        fields.append("resolved_at")
    if new.key == "closed":
        ticket.closed_at = now
        fields.append("closed_at")
    if leaving_done:
        ticket.reopened_count += 1
        ticket.resolved_at = None
        ticket.closed_at = None
        fields += ["reopened_count", "resolved_at", "closed_at"]
    return list(dict.fromkeys(fields))


@dataclass(frozen=True)
class WipLimit:
    name: str
    max_limit: int


@dataclass(frozen=True)
class ColumnLayout:
    """Which column shows which status in a project, and the enforced WIP limits; with the
    statuses the columns show, so a move to one of them needs no read of its own (one query)."""

    column_of: dict[int, int]
    statuses_of: dict[int, list[int]]
    enforced: dict[int, WipLimit]
    shown: dict[str, Status]

    @classmethod
    def of(cls, project: Project | int) -> ColumnLayout:
        project_id = project if isinstance(project, int) else project.pk
        column_of: dict[int, int] = {}
        statuses_of: dict[int, list[int]] = {}
        enforced: dict[int, WipLimit] = {}
        shown: dict[str, Status] = {}
        for column in columns_of(project_id):
            for status in column.shown:
                column_of[status.pk] = column.pk
                statuses_of.setdefault(column.pk, []).append(status.pk)
                shown[status.key] = status
            if column.shown and column.enforce_wip and column.max_limit is not None:
                enforced[column.pk] = WipLimit(column.name, column.max_limit)
        return cls(column_of, statuses_of, enforced, shown)

    def status_by_key(self, key: Any) -> Status:
        """The status of that key: from the layout when a column shows it, else read (400 if none)."""
        found = self.shown.get(key) if isinstance(key, str) else None
        return found if found is not None else status_by_key(key)

    def column_statuses(self, status: Status | int) -> tuple[int | None, list[int]]:
        """The column id showing a status (None if unmapped) and the statuses that column shows."""
        status_id = status if isinstance(status, int) else status.pk
        column_id = self.column_of.get(status_id)
        return column_id, self.statuses_of[column_id] if column_id is not None else [status_id]


def check_wip(
    ticket: Ticket,
    layout: ColumnLayout,
    old_column: int | None,
    new_column: int | None,
    status_ids: list[int],
) -> None:
    """Refuse entering a full column whose WIP limit is enforced (staying in a column is fine)."""
    if new_column is None or old_column == new_column or new_column not in layout.enforced:
        return
    limit = layout.enforced[new_column]
    # The ticket is not in the target column yet, so the column's count is everyone else.
    counts = status_counts(ticket.project_id)
    count = sum(counts.get(status_id, 0) for status_id in status_ids)
    if count >= limit.max_limit:
        raise WipLimitExceeded(
            f"{limit.name} already holds {count} of at most {limit.max_limit} tickets.",
            details={"column": new_column, "count": count, "max_limit": limit.max_limit},
        )
