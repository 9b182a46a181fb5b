"""Storing and applying a new ticket's suggestion (the system write path), agents' feedback and
the per-class precision report."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command

from config.api import InvalidInput
from notifications.models import BoardEvent
from sla.models import TicketSla
from tests_support.factories import make_ticket
from tickets.classification.base import FieldGuess, Suggestion, ticket_text
from tickets.classification.keywords import classify_by_keywords
from tickets.classification.report import precision_by_class, precision_by_source
from tickets.classification.service import apply_classification, classify_new_ticket
from tickets.models import AuditLog, ClassificationFeedback, Project, Ticket
from tickets.services.events import ticket_event_data
from tickets.services.tickets import archive_ticket, update_ticket

pytestmark = pytest.mark.django_db


def suggestion(
    category: str = "billing",
    priority: str = "high",
    *,
    confidence: float = 0.9,
    priority_confidence: float | None = None,
    source: str = "local",
) -> Suggestion:
    return Suggestion(
        category=FieldGuess(category, confidence, source, "v-cat"),
        priority=FieldGuess(
            priority,
            confidence if priority_confidence is None else priority_confidence,
            source,
            "v-prio",
        ),
    )


def classification_of(ticket: Ticket) -> dict[str, Any]:
    """The stored classification of a ticket, reloaded (it must exist)."""
    ticket.refresh_from_db()
    assert ticket.classification is not None
    return dict(ticket.classification)


def new_ticket(desk: dict[str, Any], **fields: Any) -> Ticket:
    return make_ticket(desk["project"], desk["customer"], title="Charged twice", **fields)


def apply(ticket: Ticket, guess: Suggestion, **flags: bool) -> Ticket | None:
    options = {"apply_category": True, "apply_priority": True, **flags}
    return apply_classification(ticket_id=ticket.pk, suggestion=guess, **options)


def test_fields_left_at_default_are_applied_when_confident_enough(
    desk, django_capture_on_commit_callbacks
):
    ticket = new_ticket(desk)
    seq_before = BoardEvent.objects.filter(project=desk["project"]).count()
    guess = suggestion(confidence=0.9, priority_confidence=0.59)
    with django_capture_on_commit_callbacks() as callbacks:
        result = apply(ticket, guess)
    assert result is not None
    classification = classification_of(ticket)
    assert (ticket.category, ticket.priority) == ("billing", "medium")
    assert classification.pop("at").endswith("Z")
    assert classification == {
        "category": "billing",
        "priority": "high",
        "confidence": 0.9,
        "source": "local",
        "model_version": "v-cat",
        "priority_confidence": 0.59,
        "priority_source": "local",
        "priority_model_version": "v-prio",
        "applied": ["category"],
        "explicit": [],
        "threshold": 0.6,
    }
    [audit] = AuditLog.objects.filter(ticket_id=ticket.pk, action="ticket.classified")
    assert audit.actor_id is None
    assert audit.payload == {
        "old": {"category": "general"},
        "new": {
            "category": "billing",
            "priority": "high",
            "confidence": 0.9,
            "source": "local",
            "model_version": "v-cat",
            "applied": ["category"],
        },
    }
    events = list(BoardEvent.objects.filter(project=desk["project"]).order_by("seq"))
    assert len(events) == seq_before + 1
    assert events[-1].type == "ticket.classified"
    assert events[-1].data == {
        **ticket_event_data(Ticket.objects.select_related("project", "status").get(pk=ticket.pk)),
        "classification": audit.payload["new"],
    }
    # After commit: the board event's push and the creator's /ws/me/ push (checked live).
    assert len(callbacks) == 2


def test_a_low_confidence_stays_a_suggestion(desk):
    ticket = new_ticket(desk)
    Project.objects.filter(pk=desk["project"].pk).update(classification_threshold=0.95)
    apply(ticket, suggestion(confidence=0.94))
    classification = classification_of(ticket)
    assert (ticket.category, ticket.priority) == ("general", "medium")
    assert classification["applied"] == []
    assert classification["threshold"] == 0.95
    [audit] = AuditLog.objects.filter(ticket_id=ticket.pk, action="ticket.classified")
    assert audit.payload["old"] == {}


def test_fields_the_creator_chose_are_never_applied(desk):
    ticket = new_ticket(desk, category="account", priority="low")
    apply(ticket, suggestion(), apply_category=False, apply_priority=False)
    classification = classification_of(ticket)
    assert (ticket.category, ticket.priority) == ("account", "low")
    assert classification["applied"] == []
    assert classification["explicit"] == ["category", "priority"]


def test_a_field_a_person_changed_before_the_classifier_ran_is_kept(desk):
    ticket = new_ticket(desk)
    update_ticket(actor=desk["agent"], ticket_id=ticket.pk, changes={"category": "account"})
    apply(ticket, suggestion(confidence=0.99))
    classification = classification_of(ticket)
    assert ticket.category == "account"
    assert ticket.priority == "high"
    assert classification["applied"] == ["priority"]


def test_an_applied_priority_retargets_the_sla(desk):
    ticket = new_ticket(desk)
    before = TicketSla.objects.select_related("policy").get(ticket=ticket).policy
    assert before is not None and before.priority == "medium"
    apply(ticket, suggestion(priority="critical"))
    after = TicketSla.objects.select_related("policy").get(ticket=ticket).policy
    assert after is not None and after.priority == "critical"


def test_a_second_run_is_a_no_op(desk):
    ticket = new_ticket(desk)
    assert apply(ticket, suggestion("billing")) is not None
    assert apply(ticket, suggestion("technical", "low")) is None
    assert classification_of(ticket)["category"] == ticket.category == "billing"
    assert AuditLog.objects.filter(ticket_id=ticket.pk, action="ticket.classified").count() == 1
    assert BoardEvent.objects.filter(ticket_id=ticket.pk, type="ticket.classified").count() == 1


def test_archived_tickets_and_stale_categories_are_left_alone(desk):
    archived = new_ticket(desk)
    archive_ticket(actor=desk["agent"], ticket_id=archived.pk)
    assert apply(archived, suggestion()) is None
    ticket = new_ticket(desk)
    assert apply(ticket, suggestion("removed-category")) is None
    for item in (archived, ticket):
        item.refresh_from_db()
        assert item.classification is None
    assert not AuditLog.objects.filter(action="ticket.classified").exists()


def test_the_task_body_classifies_with_the_chain_and_stores_the_suggestion(desk):
    title, description = "Refund", "My invoice charged my card twice, please refund the payment"
    ticket = make_ticket(desk["project"], desk["customer"], title=title, description=description)
    category, priority, confidence = classify_by_keywords(
        ticket_text(title, description), desk["project"].categories
    )
    assert (category, confidence) == ("billing", 0.6)
    assert classify_new_ticket(ticket_id=ticket.pk, apply_category=True, apply_priority=True)
    classification = classification_of(ticket)
    assert classification["source"] == "keywords"
    assert classification["category"] == category
    assert classification["priority"] == priority
    assert classification["confidence"] == confidence
    assert classification["applied"] == ["category", "priority"]
    assert ticket.category == "billing"  # 0.6 reaches the default threshold of 0.6
    # Idempotent: the ticket is classified once.
    assert (
        classify_new_ticket(ticket_id=ticket.pk, apply_category=True, apply_priority=True) is None
    )
    assert classify_new_ticket(ticket_id=10**9, apply_category=True, apply_priority=True) is None


# --- feedback -----------------------------------------------------------------------------------


def feedback_rows(ticket: Ticket) -> list[tuple[str, str, str, str, str, str | None]]:
    return [
        (
            f.field,
            f.suggested,
            f.final,
            f.source,
            f.model_version,
            f.actor.username if f.actor else None,
        )
        for f in ClassificationFeedback.objects.filter(ticket=ticket).order_by("id")
    ]


def test_agents_accepting_and_overriding_are_recorded(desk):
    ticket = new_ticket(desk)
    apply(ticket, suggestion("billing", "high", confidence=0.3))
    update_ticket(
        actor=desk["agent"],
        ticket_id=ticket.pk,
        changes={"category": "billing", "priority": "low"},
    )
    assert feedback_rows(ticket) == [
        ("category", "billing", "billing", "local", "v-cat", "agent"),
        ("priority", "high", "low", "local", "v-prio", "agent"),
    ]
    assert [f.accepted for f in ClassificationFeedback.objects.order_by("id")] == [True, False]


def test_confirming_an_applied_value_is_recorded_though_nothing_changes(desk):
    ticket = new_ticket(desk)
    apply(ticket, suggestion("billing", confidence=0.9))
    updated_before = Ticket.objects.get(pk=ticket.pk).updated_at
    update_ticket(actor=desk["lead"], ticket_id=ticket.pk, changes={"category": "billing"})
    assert feedback_rows(ticket) == [("category", "billing", "billing", "local", "v-cat", "lead")]
    assert Ticket.objects.get(pk=ticket.pk).updated_at == updated_before


def test_no_feedback_without_a_suggestion_or_a_suggested_field(desk):
    unclassified = new_ticket(desk)
    update_ticket(actor=desk["agent"], ticket_id=unclassified.pk, changes={"category": "billing"})
    classified = new_ticket(desk)
    apply(classified, suggestion())
    update_ticket(actor=desk["agent"], ticket_id=classified.pk, changes={"title": "Renamed"})
    update_ticket(actor=desk["customer"], ticket_id=classified.pk, changes={"title": "Again"})
    assert not ClassificationFeedback.objects.exists()


def test_a_failed_update_leaves_no_feedback(desk):
    ticket = new_ticket(desk)
    apply(ticket, suggestion())
    with pytest.raises(InvalidInput, match="Unknown status"):
        update_ticket(
            actor=desk["agent"],
            ticket_id=ticket.pk,
            changes={"category": "billing", "status": "nonsense"},
        )
    assert not ClassificationFeedback.objects.exists()


# --- the report ---------------------------------------------------------------------------------


def reviewed(desk: dict[str, Any], suggested: str, final: str, source: str = "local") -> Ticket:
    ticket = new_ticket(desk)
    apply(ticket, suggestion(suggested, confidence=0.1, source=source))
    update_ticket(actor=desk["agent"], ticket_id=ticket.pk, changes={"category": final})
    return ticket


def test_per_class_precision_counts_the_latest_feedback_per_ticket(desk):
    reviewed(desk, "billing", "billing")
    reviewed(desk, "billing", "billing")
    reviewed(desk, "billing", "account", source="keywords")
    twice = reviewed(desk, "technical", "account")
    update_ticket(actor=desk["agent"], ticket_id=twice.pk, changes={"category": "technical"})
    rows = [row.as_dict() for row in precision_by_class()]
    assert rows == [
        {
            "project": "DESK",
            "field": "category",
            "group": "billing",
            "reviewed": 3,
            "accepted": 2,
            "precision": 0.6667,
        },
        {
            "project": "DESK",
            "field": "category",
            "group": "technical",
            "reviewed": 1,
            "accepted": 1,
            "precision": 1.0,
        },
    ]
    assert [(r.group, r.reviewed, r.accepted) for r in precision_by_source()] == [
        ("keywords", 1, 0),
        ("local", 3, 3),
    ]


def test_classifier_report_prints_the_table(desk):
    reviewed(desk, "billing", "billing")
    reviewed(desk, "billing", "account")
    out = StringIO()
    call_command("classifier_report", "--project", "DESK", stdout=out)
    assert out.getvalue().splitlines() == [
        "project    field     class                        reviewed   kept precision",
        "DESK       category  billing                             2      1     0.500",
        "",
        "DESK       category  [source local]                      2      1     0.500",
    ]
    empty = StringIO()
    Project.objects.create(key="EMPTY", name="Empty")
    call_command("classifier_report", "--project", "EMPTY", stdout=empty)
    assert empty.getvalue() == (
        "No feedback yet: agents have not confirmed or changed a suggestion.\n"
    )
