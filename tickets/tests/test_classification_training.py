"""Which tickets teach the local model, (re)training per project, and the management commands."""

from __future__ import annotations

import json
import struct
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from config.celery import BEAT_SCHEDULE
from config.redis import get_redis
from tests_support.factories import make_ticket
from tickets.classification import local_model
from tickets.classification.base import FieldGuess, Suggestion, ticket_text
from tickets.classification.local import active_model, forget_loaded_models
from tickets.classification.service import apply_classification
from tickets.classification.training import labelled_tickets, read_labelled_csv, train_project
from tickets.models import AuditLog, ClassifierModel, Project, Ticket
from tickets.services.tickets import update_ticket
from tickets.tasks import retrain_classifiers_task, train_project_classifiers_task
from tickets.tests.test_classification import FIXTURE, IT_CATEGORIES, sample

pytestmark = pytest.mark.django_db


def classified(ticket: Ticket, *, category: bool, priority: bool, value: str = "billing") -> None:
    """Store a suggestion as the task would (`category`/`priority`: may it apply that field)."""
    apply_classification(
        ticket_id=ticket.pk,
        suggestion=Suggestion(
            category=FieldGuess(value, 0.99, "local", "v1"),
            priority=FieldGuess("high", 0.99, "local", "v1"),
        ),
        apply_category=category,
        apply_priority=priority,
    )


def test_only_values_a_person_set_or_confirmed_are_labels(desk):
    project, customer, agent = desk["project"], desk["customer"], desk["agent"]
    auto = make_ticket(project, customer, title="applied by the classifier alone")
    classified(auto, category=True, priority=True)
    changed = make_ticket(project, customer, title="changed by an agent")
    update_ticket(actor=agent, ticket_id=changed.pk, changes={"category": "account"})
    chosen = make_ticket(project, agent, title="chosen by staff", category="technical")
    classified(chosen, category=False, priority=True)
    by_customer = make_ticket(project, customer, title="chosen by a customer", category="account")
    classified(by_customer, category=False, priority=True)
    confirmed = make_ticket(project, customer, title="confirmed by an agent")
    classified(confirmed, category=True, priority=True)
    update_ticket(actor=agent, ticket_id=confirmed.pk, changes={"category": "billing"})
    gone = make_ticket(project, customer, title="label since removed")
    update_ticket(actor=agent, ticket_id=gone.pk, changes={"category": "general"})
    Project.objects.filter(pk=project.pk).update(categories=["billing", "technical", "account"])
    project.refresh_from_db()

    texts, labels = labelled_tickets(project, "category")
    assert list(zip(texts, labels, strict=True)) == [
        (ticket_text("confirmed by an agent", ""), "billing"),
        (ticket_text("chosen by staff", ""), "technical"),
        (ticket_text("changed by an agent", ""), "account"),
    ]
    # Priorities: nobody set one by hand except through the classifier; the staff member chose
    # only the category.
    assert labelled_tickets(project, "priority") == ([], [])


def labelled_sample(desk: dict[str, Any], per_class: int) -> None:
    """Tickets an agent opened with an explicit category, one per sample row."""
    project = Project.objects.get(pk=desk["project"].pk)
    Project.objects.filter(pk=project.pk).update(categories=IT_CATEGORIES)
    project.refresh_from_db()
    texts, labels = sample(per_class)
    for text, label in zip(texts, labels, strict=True):
        ticket = make_ticket(
            project, desk["agent"], title=text[:80], description=text, category=label
        )
        classified(ticket, category=False, priority=True, value=label)


def test_train_project_stores_an_active_versioned_model_and_skips_unchanged_data(desk):
    labelled_sample(desk, per_class=4)
    project = Project.objects.get(pk=desk["project"].pk)
    [category, priority] = train_project(project)
    assert (category.target, category.status, category.samples) == ("category", "trained", 32)
    assert (priority.target, priority.status) == ("priority", "skipped")
    assert priority.reason == "0 labelled (< 20)"
    row = ClassifierModel.objects.get(project=project, target="category")
    assert row.is_active and row.version.startswith("tfidf-svm-")
    assert row.labels == sorted(IT_CATEGORIES)
    assert row.metrics["n_samples"] == 32 and row.metrics["training_source"] == "tickets"
    loaded = active_model(project.pk, "category")
    assert loaded is not None and loaded.version == row.version

    [again, _] = train_project(project)
    assert again.status == "unchanged" and again.model == row
    assert ClassifierModel.objects.filter(project=project).count() == 1
    assert row.metrics["format_version"] == local_model.FORMAT_VERSION

    # A model stored by older code: a blob of an older format (which this code refuses to load),
    # another version hash and no format_version in its metrics. The same data is retrained.
    old_blob = bytes(row.blob)[:6] + struct.pack(">H", local_model.FORMAT_VERSION - 1)
    ClassifierModel.objects.filter(pk=row.pk).update(
        version="tfidf-svm-0123456789ab",
        blob=old_blob + bytes(row.blob)[8:],
        metrics={k: v for k, v in row.metrics.items() if k != "format_version"},
    )
    forget_loaded_models()  # as in a process started after the upgrade
    assert active_model(project.pk, "category") is None  # unreadable: the keywords answer
    [migrated, _] = train_project(project)
    assert migrated.status == "trained" and migrated.model is not None
    assert migrated.model.pk != row.pk and migrated.model.version == row.version
    assert migrated.model.metrics["format_version"] == local_model.FORMAT_VERSION
    reloaded = active_model(project.pk, "category")
    assert reloaded is not None and reloaded.version == row.version
    row = migrated.model
    [again, _] = train_project(project)
    assert again.status == "unchanged" and again.model == row

    make_ticket(project, desk["agent"], title="more", description="new laptop", category="Hardware")
    ticket = Ticket.objects.latest("pk")
    classified(ticket, category=False, priority=True, value="Hardware")
    [newer, _] = train_project(project)
    assert newer.status == "trained" and newer.samples == 33
    active = ClassifierModel.objects.filter(project=project, target="category", is_active=True)
    assert list(active.values_list("version", flat=True)) == [newer.model.version]  # type: ignore[union-attr]
    assert ClassifierModel.objects.filter(project=project).count() == 3


def test_the_nightly_task_queues_one_training_per_project(desk, settings):
    Project.objects.create(key="OTHER", name="Other")
    queue = settings.CELERY_TASK_DEFAULT_QUEUE
    assert get_redis().llen(queue) == 0
    assert retrain_classifiers_task() == 2
    assert get_redis().llen(queue) == 2
    assert (
        BEAT_SCHEDULE["retrain-classifiers-nightly"][0] == "tickets.tasks.retrain_classifiers_task"
    )
    # The per-project task: too few labels here, so nothing is trained.
    assert train_project_classifiers_task(desk["project"].pk) == {
        "category": "skipped",
        "priority": "skipped",
    }
    assert train_project_classifiers_task(10**9) == {}
    assert not ClassifierModel.objects.exists()


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_train_from_a_csv_needs_the_labels_as_categories(desk):
    with pytest.raises(CommandError) as refused:
        run("train_classifier", "--project", "DESK", "--csv", str(FIXTURE))
    assert str(refused.value) == (
        "These labels are not categories of DESK: Access, Administrative rights, HR Support, "
        "Hardware, Internal Project, Miscellaneous, Purchase, Storage. "
        "Pass --set-categories to add them to the project."
    )
    assert not ClassifierModel.objects.exists()

    output = run("train_classifier", "--project", "DESK", "--csv", str(FIXTURE), "--set-categories")
    project = Project.objects.get(key="DESK")
    assert project.categories == ["billing", "technical", "account", "general", *IT_CATEGORIES]
    assert AuditLog.objects.filter(action="project.updated", project_id=project.pk).count() == 1
    row = ClassifierModel.objects.get(project=project, is_active=True)
    assert row.metrics["training_source"] == "csv:tickets_sample.csv"
    lines = output.splitlines()
    assert lines[0] == f"DESK: categories are now {', '.join(project.categories)}"
    assert lines[1].startswith(
        f"DESK category: trained (400 samples), version {row.version}, trained in "
    )

    # The same file again: nothing to retrain.
    again = run("train_classifier", "--project", "DESK", "--csv", str(FIXTURE))
    assert again == "DESK category: unchanged (400 samples), version " + row.version + "\n"

    # Evaluate the stored model on the same CSV: the figures are local_model.evaluate's.
    report = json.loads(
        run("evaluate_classifier", "--csv", str(FIXTURE), "--project", "DESK", "--json")
    )
    texts, labels = read_labelled_csv(FIXTURE)
    expected = local_model.evaluate(local_model.loads(bytes(row.blob)), texts, labels)
    assert report["model_version"] == row.version
    assert report["accuracy"] == expected["accuracy"]
    assert report["per_class"] == expected["per_class"]
    assert report["n_samples"] == 400
    assert 0 < report["single_ms"]["median"] <= report["single_ms"]["p99"]
    table = run("evaluate_classifier", "--csv", str(FIXTURE), "--project", "DESK")
    assert f"accuracy       {expected['accuracy']:.4f}" in table.splitlines()
    assert any(line.startswith("Hardware ") for line in table.splitlines())


def test_evaluate_can_train_on_another_csv_first(tmp_path):
    texts, labels = sample(6)
    train_csv = tmp_path / "train.csv"
    train_csv.write_text(
        "text,category\n"
        + "".join(f'"{t}",{label}\n' for t, label in zip(texts, labels, strict=True))
    )
    report = json.loads(
        run("evaluate_classifier", "--csv", str(FIXTURE), "--train-csv", str(train_csv), "--json")
    )
    assert report["train_samples"] == 48 and report["n_samples"] == 400
    assert report["train_seconds"] > 0
    assert 0 <= report["accuracy"] <= 1 and set(report["per_class"]) == set(IT_CATEGORIES)


def test_command_errors(desk, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("body,label\nx,y\n")
    cases = [
        (("train_classifier", "--project", "NOPE"), "No project 'NOPE'."),
        (
            ("train_classifier", "--project", "DESK", "--csv", str(bad)),
            f"{bad} has no column text, category (it has ['body', 'label'])",
        ),
        (("train_classifier", "--project", "DESK"), "Nothing was trained."),
        (
            ("evaluate_classifier", "--csv", str(FIXTURE), "--project", "DESK"),
            "DESK has no trained category model: run manage.py train_classifier first.",
        ),
        (("classifier_report", "--project", "NOPE"), "No project 'NOPE'."),
    ]
    for args, message in cases:
        with pytest.raises(CommandError) as failed:
            run(*args)
        assert str(failed.value) == message
