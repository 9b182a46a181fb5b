"""Train a project's local classifier, from its own labelled tickets or from a CSV file.

    manage.py train_classifier --project DESK                      # category + priority models
    manage.py train_classifier --project DESK --target category --cv 5
    manage.py train_classifier --project IT --csv ../shared/data/it-tickets-train.csv \\
        --text-column text --label-column category --set-categories

A CSV's labels must be categories of the project. `--set-categories` adds the missing ones to the
project (through the project service, audited) so tickets, the form and Gemini can use them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from tickets.classification.base import PRIORITIES
from tickets.classification.local import TARGETS
from tickets.classification.training import (
    TrainingOutcome,
    read_labelled_csv,
    train_and_store,
    train_project,
)
from tickets.models import Project


class Command(BaseCommand):
    help = "Train (and activate) a project's offline ticket classifier."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--project", required=True, help="Project key, e.g. DESK.")
        parser.add_argument(
            "--target",
            choices=[*TARGETS, "all"],
            default=None,
            help="Default: all (category with --csv).",
        )
        parser.add_argument("--csv", type=Path, help="Train from this CSV instead of the tickets.")
        parser.add_argument("--text-column", default="text")
        parser.add_argument("--label-column", default="category")
        parser.add_argument("--limit", type=int, default=0, help="Read at most N CSV rows.")
        parser.add_argument(
            "--set-categories",
            action="store_true",
            help="Add the CSV's labels that are not yet project categories to the project.",
        )
        parser.add_argument("--cv", type=int, default=0, help="Also cross-validate with N folds.")
        parser.add_argument(
            "--min-samples", type=int, default=2, help="Skip a target with fewer labelled tickets."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        project = Project.objects.filter(key=options["project"]).first()
        if project is None:
            raise CommandError(f"No project {options['project']!r}.")
        if options["cv"] < 0 or options["cv"] == 1:
            raise CommandError("--cv must be 0 or at least 2.")
        if options["csv"] is not None:
            outcomes = [self._from_csv(project, options)]
        else:
            target = options["target"] or "all"
            targets = TARGETS if target == "all" else (target,)
            outcomes = train_project(
                project, targets=targets, min_samples=options["min_samples"], cv_folds=options["cv"]
            )
        failed = False
        for outcome in outcomes:
            self.stdout.write(self._describe(project, outcome))
            failed = failed or outcome.status == "skipped"
        if failed and all(o.status == "skipped" for o in outcomes):
            raise CommandError("Nothing was trained.")

    def _from_csv(self, project: Project, options: dict[str, Any]) -> TrainingOutcome:
        path: Path = options["csv"]
        target = options["target"] or "category"
        if target == "all":
            raise CommandError("--csv trains one target: pass --target category or priority.")
        if not path.exists():
            raise CommandError(f"{path} does not exist.")
        try:
            texts, labels = read_labelled_csv(
                path,
                text_column=options["text_column"],
                label_column=options["label_column"],
                limit=options["limit"],
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        found = list(dict.fromkeys(sorted(labels)))
        allowed = list(PRIORITIES) if target == "priority" else list(project.categories)
        missing = [label for label in found if label not in allowed]
        if missing and target == "priority":
            raise CommandError(f"Priorities must be among {', '.join(PRIORITIES)}: {missing}.")
        if missing and not options["set_categories"]:
            raise CommandError(
                f"These labels are not categories of {project.key}: {', '.join(missing)}. "
                "Pass --set-categories to add them to the project."
            )
        if missing:
            from tickets.services.projects import update_project

            project = update_project(
                actor=None, project=project, categories=[*project.categories, *missing]
            )
            self.stdout.write(f"{project.key}: categories are now {', '.join(project.categories)}")
        return train_and_store(
            project=project,
            target=target,
            texts=texts,
            labels=labels,
            source=f"csv:{path.name}",
            cv_folds=options["cv"],
            min_samples=options["min_samples"],
        )

    @staticmethod
    def _describe(project: Project, outcome: TrainingOutcome) -> str:
        head = f"{project.key} {outcome.target}: {outcome.status} ({outcome.samples} samples)"
        if outcome.model is None:
            return f"{head}: {outcome.reason}"
        metrics = outcome.model.metrics or {}
        parts = [head, f"version {outcome.model.version}"]
        if outcome.status == "trained" and metrics.get("train_seconds") is not None:
            parts.append(f"trained in {metrics['train_seconds']} s")
        if metrics.get("cv_accuracy") is not None:
            parts.append(
                f"cv accuracy {metrics['cv_accuracy']:.4f} macro-F1 {metrics['cv_macro_f1']:.4f}"
            )
        return ", ".join(parts)
