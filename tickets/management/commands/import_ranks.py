"""Give tickets ranks from an integer column order (e.g. a legacy board's `position`), keeping it.

    manage.py import_ranks --project DESK --csv positions.csv     # columns: ticket,position
    manage.py import_ranks --project DESK --metadata-field position

Tickets without a position keep their current relative order, after the positioned ones.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from config.redis import redis_lock
from tickets.models import Project, Ticket
from tickets.services.ranks import import_ranks
from tickets.tasks import REBALANCE_LOCK_SECONDS


class Command(BaseCommand):
    help = "Assign ranks from integer positions, keeping that order."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--project", required=True)
        source = parser.add_mutually_exclusive_group(required=True)
        source.add_argument(
            "--csv", type=Path, help="CSV with columns ticket (id or KEY-N) and position."
        )
        source.add_argument(
            "--metadata-field", help="Read each ticket's position from metadata[FIELD]."
        )

    def handle(
        self,
        *args: Any,
        project: str,
        csv: Path | None = None,
        metadata_field: str | None = None,
        **_: Any,
    ) -> None:
        item = Project.objects.filter(key=project).first()
        if item is None:
            raise CommandError(f"No project {project!r}.")
        positions = (
            self._from_csv(item, csv) if csv else self._from_metadata(item, metadata_field or "")
        )
        with redis_lock(f"rebalance:{item.pk}", timeout=REBALANCE_LOCK_SECONDS, blocking=True):
            count = import_ranks(item.pk, positions)
        self.stdout.write(f"{item.key}: {count} tickets ranked ({len(positions)} had a position)")

    def _from_csv(self, project: Project, path: Path) -> dict[int, int]:
        if not path.exists():
            raise CommandError(f"{path} does not exist.")
        numbers = dict(Ticket.objects.filter(project=project).values_list("number", "pk"))
        ids = set(numbers.values())
        out: dict[int, int] = {}
        with path.open(newline="", encoding="utf-8") as handle:
            for line, row in enumerate(csv_reader(handle), start=2):
                raw, position = (
                    (row.get("ticket") or "").strip(),
                    (row.get("position") or "").strip(),
                )
                try:
                    pos = int(position)
                    if raw.upper().startswith(f"{project.key}-"):
                        ticket_id = numbers[int(raw.split("-", 1)[1])]
                    else:
                        ticket_id = int(raw)
                        if ticket_id not in ids:
                            raise KeyError(raw)
                except (ValueError, KeyError):
                    raise CommandError(
                        f"line {line}: unknown ticket {raw!r} or bad position {position!r}"
                    ) from None
                out[ticket_id] = pos
        return out

    def _from_metadata(self, project: Project, field: str) -> dict[int, int]:
        out: dict[int, int] = {}
        for pk, metadata in Ticket.objects.filter(project=project).values_list("pk", "metadata"):
            value = (metadata or {}).get(field)
            if isinstance(value, int) and not isinstance(value, bool):
                out[pk] = value
        return out


def csv_reader(handle: Any) -> Any:
    return csv.DictReader(handle)
