"""Evaluate the local classifier on a labelled CSV: accuracy, per-class precision/recall, ms/ticket.

    manage.py evaluate_classifier --csv test.csv --project DESK       # the project's active model
    manage.py evaluate_classifier --csv test.csv --train-csv train.csv  # train first, then evaluate

The CSV has a header with a text and a label column (`text,category` by default).
"""

from __future__ import annotations

import json
import statistics
import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from tickets.classification import local_model
from tickets.classification.local import active_model
from tickets.classification.training import read_labelled_csv
from tickets.models import Project

# Single-ticket latency is measured on at most this many tickets of the CSV.
LATENCY_SAMPLE = 1000


class Command(BaseCommand):
    help = "Print accuracy, per-class precision/recall and ms/ticket of the classifier on a CSV."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--csv", type=Path, required=True, help="Labelled tickets to score.")
        model = parser.add_mutually_exclusive_group(required=True)
        model.add_argument("--project", help="Use this project's active model.")
        model.add_argument("--train-csv", type=Path, help="Train a model on this CSV first.")
        parser.add_argument("--target", choices=["category", "priority"], default="category")
        parser.add_argument("--text-column", default="text")
        parser.add_argument("--label-column", default="category")
        parser.add_argument("--limit", type=int, default=0, help="Read at most N rows per CSV.")
        parser.add_argument(
            "--json", action="store_true", dest="as_json", help="Machine-readable output."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        texts, labels = self._read(options["csv"], options)
        if not texts:
            raise CommandError(f"{options['csv']} has no labelled rows.")
        report: dict[str, Any] = {}
        if options["train_csv"] is not None:
            train_texts, train_labels = self._read(options["train_csv"], options)
            started = time.perf_counter()
            try:
                model = local_model.train(train_texts, train_labels)
            except local_model.NotEnoughData as exc:
                raise CommandError(str(exc)) from None
            report["train_seconds"] = round(time.perf_counter() - started, 3)
            report["train_samples"] = len(train_texts)
        else:
            project = Project.objects.filter(key=options["project"]).first()
            if project is None:
                raise CommandError(f"No project {options['project']!r}.")
            found = active_model(project.pk, options["target"])
            if found is None:
                raise CommandError(
                    f"{project.key} has no trained {options['target']} model: "
                    "run manage.py train_classifier first."
                )
            model = found
        report["model_version"] = model.version
        report.update(local_model.evaluate(model, texts, labels))
        report["single_ms"] = _single_latency(model, texts[:LATENCY_SAMPLE])
        self.stdout.write(json.dumps(report, indent=2) if options["as_json"] else _table(report))

    def _read(self, path: Path, options: dict[str, Any]) -> tuple[list[str], list[str]]:
        if not path.exists():
            raise CommandError(f"{path} does not exist.")
        try:
            return read_labelled_csv(
                path,
                text_column=options["text_column"],
                label_column=options["label_column"],
                limit=options["limit"],
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from None


def _single_latency(model: local_model.TrainedModel, texts: list[str]) -> dict[str, float]:
    """Median and p99 of one `predict` call (the path a new ticket takes)."""
    timings: list[float] = []
    for text in texts:
        started = time.perf_counter()
        local_model.predict(model, text)
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    return {
        "median": round(statistics.median(timings), 4),
        "p99": round(timings[min(len(timings) - 1, int(len(timings) * 0.99))], 4),
    }


def _table(report: dict[str, Any]) -> str:
    lines = [f"model {report['model_version']}"]
    if "train_seconds" in report:
        lines.append(f"trained on {report['train_samples']} tickets in {report['train_seconds']} s")
    lines += [
        f"tickets        {report['n_samples']}",
        f"accuracy       {report['accuracy']:.4f}",
        f"macro-F1       {report['macro_f1']:.4f}",
        f"ms/ticket      {report['ms_per_ticket']:.4f} (batch), "
        f"{report['single_ms']['median']:.4f} median / {report['single_ms']['p99']:.4f} p99 (one at a time)",
        "",
        f"{'class':<28} {'precision':>9} {'recall':>9} {'f1':>9} {'support':>8}",
    ]
    for name, row in report["per_class"].items():
        lines.append(
            f"{name[:28]:<28} {row['precision']:>9.4f} {row['recall']:>9.4f} {row['f1']:>9.4f} "
            f"{row['support']:>8}"
        )
    return "\n".join(lines)
