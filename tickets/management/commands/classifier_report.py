"""Per-class precision of the classifier's suggestions, from agents' accept/override feedback.

manage.py classifier_report [--project DESK] [--json]
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from tickets.classification.report import PrecisionRow, precision_by_class, precision_by_source
from tickets.models import Project


class Command(BaseCommand):
    help = "Print per-class precision of classification suggestions (from agents' feedback)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--project", help="Only this project (key).")
        parser.add_argument(
            "--json", action="store_true", dest="as_json", help="Machine-readable output."
        )

    def handle(
        self, *args: Any, project: str | None = None, as_json: bool = False, **_: Any
    ) -> None:
        item = None
        if project:
            item = Project.objects.filter(key=project).first()
            if item is None:
                raise CommandError(f"No project {project!r}.")
        by_class, by_source = precision_by_class(item), precision_by_source(item)
        if as_json:
            self.stdout.write(_dumps(by_class, by_source))
            return
        if not by_class:
            self.stdout.write("No feedback yet: agents have not confirmed or changed a suggestion.")
            return
        self.stdout.write(
            f"{'project':<10} {'field':<9} {'class':<28} {'reviewed':>8} {'kept':>6} {'precision':>9}"
        )
        for row in by_class:
            self.stdout.write(_line(row, row.group))
        self.stdout.write("")
        for row in by_source:
            self.stdout.write(_line(row, f"[source {row.group}]"))


def _line(row: PrecisionRow, label: str) -> str:
    return (
        f"{row.project:<10} {row.field:<9} {label[:28]:<28} {row.reviewed:>8} {row.accepted:>6} "
        f"{row.precision:>9.3f}"
    )


def _dumps(by_class: list[PrecisionRow], by_source: list[PrecisionRow]) -> str:
    return json.dumps(
        {
            "by_class": [row.as_dict() for row in by_class],
            "by_source": [row.as_dict() for row in by_source],
        },
        indent=2,
    )
