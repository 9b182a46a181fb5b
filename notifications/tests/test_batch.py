"""The batch write APIs used by SLA work: one statement per table for many events.

`notify_ticket_events` must notify exactly whom, on exactly which channels and with exactly
which rows, one `notify_ticket_event` call per event would: compared here row for row.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from django.db import transaction

from notifications.bulk import bulk_insert
from notifications.dispatch import notify_ticket_event, notify_ticket_events
from notifications.models import (
    BoardEvent,
    EmailDelivery,
    Notification,
    NotificationPreference,
    Webhook,
    WebhookDelivery,
)
from notifications.recipients import BatchEvent
from notifications.services import record_board_event, record_board_events
from notifications.webhooks.outbox import record_webhook_events
from tests_support.factories import make_ticket, make_user
from tickets.models import AuditLog, Watcher

pytestmark = pytest.mark.django_db


def rows() -> list[tuple[Any, ...]]:
    """Every notification and e-mail row without ids, event ids or timestamps, sorted."""
    notes = [
        ("in_app", n.user.username, n.kind, n.project_id, n.ticket_id, n.actor_id, n.title, n.data)
        for n in Notification.objects.select_related("user")
    ]
    mails = [
        ("email", e.user.username, e.kind, e.to_email, e.subject, e.context, e.status)
        for e in EmailDelivery.objects.select_related("user")
    ]
    return sorted(notes + mails, key=repr)


@pytest.fixture
def scene(desk: dict[str, Any]) -> dict[str, Any]:
    """Two tickets with every kind of relation: watchers with switches off, an inactive watcher,
    a watcher outside the project, a user who turned e-mail off for SLA breaches."""
    project = desk["project"]
    quiet = make_user("quiet", project=project, role="agent")
    gone = make_user("gone", project=project, role="agent", is_active=False)
    NotificationPreference.objects.create(
        user=desk["lead"], in_app=True, email=True, events={"sla.breached": {"email": False}}
    )
    one = make_ticket(project, desk["lead"], assignee=desk["agent"], requester=desk["customer"])
    two = make_ticket(project, desk["lead"], assignee=quiet)
    for ticket, user, in_app, email in (
        (one, desk["lead"], True, True),
        (one, quiet, True, False),
        (one, gone, True, True),
        (one, desk["outsider"], True, True),
        (two, desk["manager"], False, True),
        (two, desk["customer2"], True, True),
    ):
        Watcher.objects.update_or_create(
            ticket=ticket, user=user, defaults={"notify_in_app": in_app, "notify_email": email}
        )
    Webhook.objects.create(
        project=project, url="https://hooks.example.com/a", events=["*"], secret="whsec_AA=="
    )
    Notification.objects.all().delete()
    EmailDelivery.objects.all().delete()
    WebhookDelivery.objects.all().delete()
    return {**desk, "one": one, "two": two, "quiet": quiet}


def events_of(scene: dict[str, Any]) -> list[BatchEvent]:
    one, two = scene["one"], scene["two"]
    return [
        BatchEvent(kind="sla.breached", ticket=one, extra={"level": 0, "metric": "resolution"}),
        BatchEvent(
            kind="sla.escalated",
            ticket=two,
            extra_recipients=[scene["manager"], scene["agent"]],
            extra={"level": 2, "metric": "first_response"},
        ),
        BatchEvent(kind="ticket.resolved", ticket=one, actor=scene["agent"]),
        BatchEvent(kind="ticket.resolved", ticket=two, actor=scene["lead"]),
    ]


def test_a_batch_notifies_exactly_as_one_call_per_event(scene):
    events = events_of(scene)
    with transaction.atomic():
        for event in events:
            notify_ticket_event(
                kind=event.kind,
                ticket=event.ticket,
                actor=event.actor,
                extra_recipients=event.extra_recipients,
                **event.extra,
            )
    one_by_one = rows()
    hooks_one_by_one = sorted(
        WebhookDelivery.objects.values_list("event_type", flat=True).order_by()
    )
    Notification.objects.all().delete()
    EmailDelivery.objects.all().delete()
    WebhookDelivery.objects.all().delete()
    with transaction.atomic():
        notify_ticket_events(events)
    assert rows() == one_by_one
    assert sorted(WebhookDelivery.objects.values_list("event_type", flat=True)) == hooks_one_by_one
    # The rules as they apply here: staff-only SLA kinds never reach the customer; the switched
    # off watcher channels, the e-mail preference, the inactive and the outsider are respected.
    people = {(r[0], r[1], r[2]) for r in one_by_one}
    assert ("in_app", "customer", "sla.breached") not in people
    assert ("in_app", "customer", "ticket.resolved") in people
    assert ("email", "lead", "sla.breached") not in people
    assert ("in_app", "lead", "sla.breached") in people
    assert ("email", "quiet", "sla.breached") not in people
    assert ("in_app", "quiet", "sla.breached") in people
    assert not {p for p in people if p[1] in ("gone", "outsider")}
    assert ("in_app", "manager", "sla.escalated") in people  # named by the escalation
    assert ("in_app", "manager", "ticket.resolved") not in people  # watcher with in-app off
    assert ("email", "manager", "ticket.resolved") in people
    assert ("in_app", "customer2", "ticket.resolved") not in people  # not their ticket
    # One e-mail per recipient per event, and each event has its own id.
    keys = list(EmailDelivery.objects.values_list("event_id", "user_id"))
    assert len(keys) == len(set(keys))
    assert Notification.objects.values("event_id").distinct().count() == 4


def test_an_event_with_a_message_is_refused(scene):
    with pytest.raises(ValueError, match="notify_ticket_event"):
        notify_ticket_events(
            [BatchEvent(kind="ticket.commented", ticket=scene["one"], extra={"message": None})]
        )


def test_board_events_of_a_batch_take_consecutive_seqs_in_order(desk):
    project = desk["project"]
    with transaction.atomic():
        first = record_board_event(
            actor=None, project_id=project.pk, type="sla.warning", data={"n": 0}
        )
        batch = record_board_events(
            project_id=project.pk,
            events=[
                ("sla.escalated", {"n": i, "at": datetime(2026, 1, 1, tzinfo=UTC)}, None)
                for i in (1, 2, 3)
            ],
        )
        after = record_board_event(
            actor=None, project_id=project.pk, type="sla.warning", data={"n": 4}
        )
    assert [e.seq for e in batch] == [first.seq + 1, first.seq + 2, first.seq + 3]
    assert after.seq == first.seq + 4
    stored = BoardEvent.objects.filter(project=project, seq__gt=first.seq, seq__lt=after.seq)
    assert [(e.seq, e.type, e.data["n"]) for e in stored.order_by("seq")] == [
        (first.seq + 1, "sla.escalated", 1),
        (first.seq + 2, "sla.escalated", 2),
        (first.seq + 3, "sla.escalated", 3),
    ]
    # Encoded as record_board_event encodes (DjangoJSONEncoder).
    assert stored.order_by("seq")[0].data["at"] == "2026-01-01T00:00:00Z"
    assert [e.data for e in batch] == [e.data for e in stored.order_by("seq")]


def test_webhook_events_of_a_batch_get_a_delivery_per_matching_endpoint(desk):
    project = desk["project"]
    every = Webhook.objects.create(
        project=project, url="https://hooks.example.com/a", events=["*"], secret="whsec_AA=="
    )
    moves = Webhook.objects.create(
        project=project,
        url="https://hooks.example.com/b",
        events=["ticket.moved"],
        secret="whsec_AA==",
    )
    Webhook.objects.create(
        project=project,
        url="https://hooks.example.com/c",
        events=["*"],
        secret="whsec_AA==",
        is_active=False,
    )
    with transaction.atomic():
        ids = record_webhook_events(
            [
                (project.pk, "ticket.moved", {"id": 1}),
                (project.pk, "sla.breached", {"id": 2}),
            ]
        )
    deliveries = list(WebhookDelivery.objects.filter(pk__in=ids).order_by("pk"))
    assert [(d.webhook_id, d.event_type) for d in deliveries] == [
        (every.pk, "ticket.moved"),
        (moves.pk, "ticket.moved"),
        (every.pk, "sla.breached"),
    ]
    # One message id per event, shared by its endpoints (as record_webhook_event gives).
    assert deliveries[0].message_id == deliveries[1].message_id != deliveries[2].message_id
    assert '"data":{"id":2}' in deliveries[2].payload
    assert f'"id":"{deliveries[2].message_id}"' in deliveries[2].payload


def test_bulk_insert_sets_pks_and_keeps_every_field(desk):
    at = datetime(2026, 3, 1, 12, 30, 15, 123456, tzinfo=UTC)
    logs = [
        AuditLog(action="ticket.escalated", project_id=desk["project"].pk, payload={"n": i})
        for i in range(3)
    ]
    ids = bulk_insert(logs)
    assert ids == [log.pk for log in logs] == sorted(ids)
    assert [a.payload["n"] for a in AuditLog.objects.filter(pk__in=ids).order_by("pk")] == [0, 1, 2]
    assert all(a.created_at is not None for a in AuditLog.objects.filter(pk__in=ids))
    note = Notification(
        user=desk["agent"],
        event_id="6f1c2f1e-8a44-4a8e-9d44-3f1d1f0c0a01",
        kind="sla.warning",
        title="t",
        data={"a": [1, "x"]},
        created_at=at,
    )
    bulk_insert([note])
    stored = Notification.objects.get(pk=note.pk)
    assert (stored.created_at, stored.data, str(stored.event_id)) == (
        at,
        {"a": [1, "x"]},
        "6f1c2f1e-8a44-4a8e-9d44-3f1d1f0c0a01",
    )
    assert bulk_insert([]) == []
