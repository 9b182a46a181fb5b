"""In-app notifications and e-mail rows: who hears of what, preferences, and the inbox API."""

from __future__ import annotations

import json

import pytest
from django.db import transaction

from config.redis import get_redis
from notifications.dispatch import notify_ticket_event, notify_user
from notifications.models import (
    EmailDelivery,
    Notification,
    NotificationPreference,
    Webhook,
    WebhookDelivery,
)
from tests_support.factories import make_ticket
from tickets.models import Membership
from tickets.services.conversation import add_message, watch_ticket
from tickets.services.tickets import assign_ticket

pytestmark = pytest.mark.django_db

QUEUE = "helpline"  # the suite's Celery queue (a Redis list)


def inbox() -> set[tuple[str, str]]:
    return set(Notification.objects.values_list("user__username", "kind"))


def mailbox() -> set[tuple[str, str]]:
    return set(EmailDelivery.objects.values_list("user__username", "kind"))


def _clear() -> None:
    Notification.objects.all().delete()
    EmailDelivery.objects.all().delete()


@pytest.fixture
def ticket(desk):
    """A customer's ticket, assigned to the agent by the lead (then the slate is wiped clean)."""
    created = make_ticket(desk["project"], desk["customer"])
    assign_ticket(actor=desk["lead"], ticket_id=created.pk, assignee=desk["agent"])
    return created


def test_a_customer_raising_a_ticket_notifies_nobody_but_an_assignment_tells_assignee_and_requester(
    desk,
):
    created = make_ticket(desk["project"], desk["customer"])
    assert inbox() == set()  # the requester is the actor; nobody else relates to the ticket yet
    assign_ticket(actor=desk["lead"], ticket_id=created.pk, assignee=desk["agent"])
    assert inbox() == {("agent", "ticket.assigned"), ("customer", "ticket.assigned")}
    assert mailbox() == {("agent", "ticket.assigned"), ("customer", "ticket.assigned")}
    note = Notification.objects.get(user=desk["agent"])
    assert note.title == f"lead assigned DESK-{created.number} to agent"
    assert note.project_id == desk["project"].pk and note.ticket_id == created.pk
    assert note.actor_id == desk["lead"].pk and note.read_at is None
    assert note.data["ticket"]["key"] == f"DESK-{created.number}"
    assert note.data["ticket"]["requester"] == "customer"
    assert note.data["reason"] == ""
    # One event, one id: both recipients' rows share it.
    assert Notification.objects.values("event_id").distinct().count() == 1


def test_the_actor_does_not_hear_of_their_own_reply(desk, ticket):
    _clear()
    add_message(actor=desk["agent"], ticket_id=ticket.pk, body="Have you tried turning it off?")
    assert inbox() == {("customer", "ticket.commented")}
    assert mailbox() == {("customer", "ticket.commented")}
    data = Notification.objects.get().data
    assert data["message"]["body"] == "Have you tried turning it off?"
    assert data["message"]["author"] == "agent"


def test_an_internal_note_reaches_staff_in_app_only_never_the_customer_email_or_webhooks(
    desk, ticket
):
    Webhook.objects.create(
        project=desk["project"],
        url="https://hooks.example.com/x",
        events=["*"],
        secret="whsec_AA==",
    )
    watch_ticket(actor=desk["manager"], ticket_id=ticket.pk)
    _clear()
    add_message(
        actor=desk["lead"],
        ticket_id=ticket.pk,
        body="@customer is on the cheap plan, @agent do not refund",
        internal=True,
    )
    assert inbox() == {("agent", "ticket.noted"), ("manager", "ticket.noted")}
    assert mailbox() == set()
    assert WebhookDelivery.objects.count() == 0
    assert not Notification.objects.filter(user=desk["customer"]).exists()


def test_an_internal_message_passed_as_a_comment_is_still_treated_as_a_note(desk, ticket):
    from tickets.models import Message

    Webhook.objects.create(
        project=desk["project"],
        url="https://hooks.example.com/x",
        events=["*"],
        secret="whsec_AA==",
    )
    _clear()
    with transaction.atomic():
        note = Message.objects.create(
            ticket=ticket, author=desk["lead"], body="secret", internal=True
        )
        notify_ticket_event(
            kind="ticket.commented", ticket=ticket, actor=desk["lead"], message=note
        )
    assert inbox() == {("agent", "ticket.noted")}
    assert mailbox() == set()
    assert WebhookDelivery.objects.count() == 0


def test_mentions_reach_members_who_can_see_the_ticket(desk, ticket):
    _clear()
    add_message(
        actor=desk["agent"],
        ticket_id=ticket.pk,
        body="@LEAD can you check? cc @outsider @customer2 @nobody",
    )
    # lead: mentioned; customer: requester; outsider: not a member; customer2: not their ticket.
    assert inbox() == {("lead", "ticket.commented"), ("customer", "ticket.commented")}
    lead_mail = EmailDelivery.objects.get(user=desk["lead"])
    assert lead_mail.context["reasons"] == ["mention"]
    assert lead_mail.subject == f"[DESK-{ticket.number}] agent replied on DESK-{ticket.number}"


def test_one_email_per_recipient_per_event_whatever_the_number_of_reasons(desk, ticket):
    _clear()
    # The agent is assignee, watcher and mentioned: one row each channel.
    add_message(actor=desk["lead"], ticket_id=ticket.pk, body="@agent over to you, @agent")
    assert EmailDelivery.objects.filter(user=desk["agent"]).count() == 1
    assert Notification.objects.filter(user=desk["agent"]).count() == 1
    assert EmailDelivery.objects.get(user=desk["agent"]).context["reasons"] == [
        "watcher",
        "assignee",
        "mention",
    ]


def test_escalation_roles_are_added_but_sla_events_never_reach_customers(desk, ticket):
    _clear()
    with transaction.atomic():
        notify_ticket_event(
            kind="sla.escalated",
            ticket=ticket,
            actor=None,
            extra_recipients=[desk["manager"], desk["customer2"]],
            level=2,
            metric="resolution",
        )
    assert inbox() == {("agent", "sla.escalated"), ("manager", "sla.escalated")}
    manager_note = Notification.objects.get(user=desk["manager"])
    assert manager_note.title == f"DESK-{ticket.number} was escalated to level 2"
    assert manager_note.data["metric"] == "resolution" and manager_note.actor_id is None


def test_watcher_switches_mute_a_channel_unless_the_user_is_addressed_directly(desk, ticket):
    watch_ticket(actor=desk["manager"], ticket_id=ticket.pk, notify_email=False)
    watch_ticket(actor=desk["admin"], ticket_id=ticket.pk, notify_in_app=False, notify_email=False)
    _clear()
    add_message(actor=desk["agent"], ticket_id=ticket.pk, body="Fixed, I think.")
    assert ("manager", "ticket.commented") in inbox()
    assert ("manager", "ticket.commented") not in mailbox()
    assert not Notification.objects.filter(user=desk["admin"]).exists()
    _clear()
    add_message(actor=desk["agent"], ticket_id=ticket.pk, body="@admin @manager please confirm")
    assert {("admin", "ticket.commented"), ("manager", "ticket.commented")} <= mailbox()


def test_user_preferences_filter_each_channel(desk, ticket):
    NotificationPreference.objects.create(user=desk["customer"], email=False)
    NotificationPreference.objects.create(
        user=desk["agent"], events={"ticket.commented": {"in_app": False}}
    )
    _clear()
    add_message(actor=desk["lead"], ticket_id=ticket.pk, body="Status update")
    assert inbox() == {("customer", "ticket.commented")}
    assert mailbox() == {("agent", "ticket.commented")}


def test_inactive_users_and_users_without_an_address_are_skipped(desk, ticket):
    desk["agent"].email = ""
    desk["agent"].save(update_fields=["email"])
    desk["customer"].is_active = False
    desk["customer"].save(update_fields=["is_active"])
    _clear()
    add_message(actor=desk["lead"], ticket_id=ticket.pk, body="Anyone?")
    assert inbox() == {("agent", "ticket.commented")}
    assert mailbox() == set()


def test_a_rolled_back_change_notifies_nobody_and_queues_nothing(desk, ticket):
    _clear()
    with pytest.raises(RuntimeError), transaction.atomic():
        add_message(actor=desk["agent"], ticket_id=ticket.pk, body="never happened")
        raise RuntimeError("boom")
    assert inbox() == set() and mailbox() == set()
    assert get_redis().llen(QUEUE) == 0


def test_after_commit_one_task_per_event_is_queued(
    desk, ticket, django_capture_on_commit_callbacks
):
    _clear()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        add_message(actor=desk["agent"], ticket_id=ticket.pk, body="queued once")
    dispatches = [
        json.loads(get_redis().lindex(QUEUE, i) or b"{}")["headers"]
        for i in range(get_redis().llen(QUEUE))
    ]
    names = [h["task"] for h in dispatches]
    assert names.count("notifications.tasks.dispatch_event_task") == 1
    args = next(h["argsrepr"] for h in dispatches if h["task"].endswith("dispatch_event_task"))
    note_id = Notification.objects.get().pk
    email_id = EmailDelivery.objects.get().pk
    assert args == f"([{note_id}], [{email_id}], [])"
    assert len(callbacks) >= 1


def test_notify_user_reaches_one_person_by_their_preferences(desk):
    with transaction.atomic():
        notify_user(
            user=desk["agent"],
            kind="export.failed",
            data={"export_id": 7, "error": "disk full", "project_id": desk["project"].pk},
        )
    note = Notification.objects.get()
    assert (note.user_id, note.kind, note.title) == (
        desk["agent"].pk,
        "export.failed",
        "Your export failed",
    )
    assert note.project_id == desk["project"].pk and note.data["error"] == "disk full"
    assert mailbox() == {("agent", "export.failed")}
    NotificationPreference.objects.create(user=desk["lead"], in_app=False, email=False)
    notify_user(user=desk["lead"], kind="export.succeeded", data={"export_id": 8})
    assert not Notification.objects.filter(user=desk["lead"]).exists()


def test_an_unknown_kind_is_a_programming_error(desk, ticket):
    with pytest.raises(ValueError, match="not in the event catalogue"):
        notify_ticket_event(kind="ticket.exploded", ticket=ticket, actor=desk["agent"])


# --- the inbox API ------------------------------------------------------------------------------


def _notes(user, desk, count: int) -> list[Notification]:
    created = make_ticket(desk["project"], desk["customer"])
    for i in range(count):
        add_message(actor=desk["lead"], ticket_id=created.pk, body=f"@{user.username} #{i}")
    return list(Notification.objects.filter(user=user).order_by("-created_at", "-id"))


def test_list_is_newest_first_with_cursor_pages_and_an_unread_filter(desk, as_user):
    notes = _notes(desk["agent"], desk, 3)
    client = as_user(desk["agent"])
    first = client.get("/api/v1/notifications/?page_size=2")
    assert first.status_code == 200
    body = first.json()
    assert [n["id"] for n in body["results"]] == [notes[0].pk, notes[1].pk]
    assert body["results"][0] == {
        "id": notes[0].pk,
        "kind": "ticket.commented",
        "title": notes[0].title,
        "project": "DESK",
        "ticket": notes[0].ticket_id,
        "actor": "lead",
        "data": notes[0].data,
        "read": False,
        "read_at": None,
        "created_at": notes[0].created_at.isoformat().replace("+00:00", "Z"),
    }
    second = client.get(body["next"]).json()
    assert [n["id"] for n in second["results"]] == [notes[2].pk]
    assert second["next"] is None

    read = client.post(f"/api/v1/notifications/{notes[1].pk}/read/")
    assert read.status_code == 200 and read.json()["read"] is True
    unread = client.get("/api/v1/notifications/?unread=true").json()["results"]
    assert [n["id"] for n in unread] == [notes[0].pk, notes[2].pk]
    read_ones = client.get("/api/v1/notifications/?unread=false").json()["results"]
    assert [n["id"] for n in read_ones] == [notes[1].pk]
    assert client.get("/api/v1/notifications/?unread=maybe").status_code == 400


def test_marking_read_is_idempotent_and_others_notifications_are_not_found(desk, as_user):
    notes = _notes(desk["agent"], desk, 1)
    first = as_user(desk["agent"]).post(f"/api/v1/notifications/{notes[0].pk}/read/").json()
    again = as_user(desk["agent"]).post(f"/api/v1/notifications/{notes[0].pk}/read/").json()
    assert first["read_at"] == again["read_at"] is not None
    stranger = as_user(desk["manager"]).post(f"/api/v1/notifications/{notes[0].pk}/read/")
    assert stranger.status_code == 404
    assert stranger.json()["error"]["code"] == "not_found"
    assert as_user(desk["agent"]).post("/api/v1/notifications/999999/read/").status_code == 404


def test_read_all_marks_only_the_callers_unread_notifications(desk, as_user):
    _notes(desk["agent"], desk, 3)
    _notes(desk["manager"], desk, 1)
    response = as_user(desk["agent"]).post("/api/v1/notifications/read-all/")
    assert response.json() == {"updated": 3}
    assert as_user(desk["agent"]).post("/api/v1/notifications/read-all/").json() == {"updated": 0}
    assert Notification.objects.filter(user=desk["manager"], read_at__isnull=True).count() == 1


def test_notifications_of_a_project_the_user_left_are_hidden(desk, as_user):
    _notes(desk["agent"], desk, 2)
    Membership.objects.filter(user=desk["agent"]).delete()
    assert as_user(desk["agent"]).get("/api/v1/notifications/").json()["results"] == []


def test_the_list_costs_the_same_queries_for_one_or_many(
    desk, as_user, django_assert_max_num_queries
):
    _notes(desk["agent"], desk, 1)
    client = as_user(desk["agent"])
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as one:
        client.get("/api/v1/notifications/")
    _notes(desk["agent"], desk, 6)
    with django_assert_max_num_queries(len(one.captured_queries)):
        assert len(client.get("/api/v1/notifications/").json()["results"]) == 7


def test_preferences_read_and_replace(desk, as_user):
    client = as_user(desk["agent"])
    initial = client.get("/api/v1/notification-preferences/").json()
    assert initial["in_app"] is True and initial["email"] is True
    assert initial["events"]["ticket.moved"] == {"in_app": True, "email": False}
    assert initial["events"]["ticket.noted"] == {"in_app": True, "email": False}
    put = client.put(
        "/api/v1/notification-preferences/",
        {"email": False, "events": {"ticket.moved": {"in_app": False}}},
        format="json",
    )
    assert put.status_code == 200
    assert put.json()["email"] is False
    assert put.json()["events"]["ticket.moved"] == {"in_app": False, "email": False}
    stored = NotificationPreference.objects.get(user=desk["agent"])
    assert (stored.email, stored.events) == (False, {"ticket.moved": {"in_app": False}})
    # PUT replaces: what is left out returns to the defaults.
    client.put("/api/v1/notification-preferences/", {}, format="json")
    assert client.get("/api/v1/notification-preferences/").json() == initial


def test_preferences_reject_what_can_never_be(desk, as_user):
    response = as_user(desk["agent"]).put(
        "/api/v1/notification-preferences/",
        {"events": {"ticket.noted": {"email": True}}},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"
    assert response.json()["error"]["message"] == "ticket.noted is never sent by email."


def test_the_inbox_needs_credentials(api, db):
    for method, path in (
        ("get", "/api/v1/notifications/"),
        ("post", "/api/v1/notifications/read-all/"),
        ("get", "/api/v1/notification-preferences/"),
    ):
        response = getattr(api, method)(path)
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "not_authenticated"


def test_candidates_follow_watch_switches_and_activity(desk):
    """The ticket's own people: watcher switches, a customer requester, an inactive watcher,
    no assignee."""
    from notifications.recipients import ticket_recipients
    from tests_support.factories import make_user

    project = desk["project"]
    ticket = make_ticket(project, desk["customer"], title="Both paths")
    for user, in_app, email in ((desk["lead"], False, True), (desk["manager"], True, False)):
        watch_ticket(actor=user, ticket_id=ticket.pk, notify_in_app=in_app, notify_email=email)
    gone = make_user("gone", project=project, role="agent")
    watch_ticket(actor=gone, ticket_id=ticket.pk)
    gone.is_active = False
    gone.save(update_fields=["is_active"])

    def chosen(**kw):
        people, _ = ticket_recipients(
            ticket=ticket, kind="ticket.moved", actor=desk["agent"], mentions=[], **kw
        )
        return sorted((r.user.username, r.role, r.reasons, r.in_app, r.email) for r in people)

    direct = chosen()
    # The lead switched in-app off and ticket.moved sends no e-mail by default; the watcher
    # who left is inactive; the agent is the actor.
    assert [name for name, *_ in direct] == ["customer", "manager"]
