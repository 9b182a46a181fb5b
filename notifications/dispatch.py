"""Turning changes into in-app notifications, e-mails and webhook deliveries.

Called by services inside their transaction: every row (notification, e-mail, webhook delivery)
is written there, so a rolled-back change notifies nobody and a committed one loses nothing. After
commit one Celery task per event pushes the in-app notifications to `/ws/me/` and fans the e-mails
and webhook deliveries out to their own tasks; the relay beat task re-queues anything a crash
left behind. Internal notes (`ticket.noted`) reach staff in-app only: never a customer, never an
e-mail, never a webhook.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from config.rawsql import fetch_all
from notifications import sql
from notifications.catalogue import CATALOGUE, channel_enabled, headline, parse_mentions
from notifications.email import subject_for
from notifications.payloads import jsonable, message_payload, ticket_payload
from notifications.recipients import (
    BatchEvent,
    Recipient,
    batch_recipients,
    project_admins,
    stored_preferences,
    ticket_recipients,
    user_recipient,
)
from notifications.webhooks.outbox import record_webhook_event, record_webhook_events
from tickets.models import Message, Ticket, User

# Ids of rows a statement inserted.
Ids = list[int]


def _ids(ids: Ids) -> list[int]:
    return sorted(ids)


def _kind(kind: str) -> Any:
    entry = CATALOGUE.get(kind)
    if entry is None:
        raise ValueError(f"{kind!r} is not in the event catalogue (notifications.catalogue).")
    return entry


def _actor_name(actor: Any) -> str | None:
    return actor.username if getattr(actor, "is_authenticated", False) else None


def notify_ticket_event(
    *,
    kind: str,
    ticket: Ticket,
    actor: Any,
    extra_recipients: Iterable[User] = (),
    **extra: Any,
) -> None:
    """Record who should hear about `kind` on `ticket` (called inside the service's transaction).

    `kind` is an event of the catalogue (`ticket.created`, `ticket.commented`, `sla.breached`, ...);
    `ticket.noted` is an internal note: staff only, never webhooks or customers.
    `extra_recipients` adds people beyond watchers/assignee/requester (e.g. an escalation role).
    """
    message: Message | None = extra.pop("message", None)
    extra.pop("public", None)
    if message is not None and message.internal:
        # Whatever the caller named it, an internal note travels only as a note.
        kind = "ticket.noted"
    entry = _kind(kind)
    mentions = parse_mentions(message.body) if message is not None else []
    recipients, known = ticket_recipients(
        ticket=ticket,
        kind=kind,
        actor=actor,
        mentions=mentions,
        extra_recipients=extra_recipients,
    )
    now = timezone.now()
    base: dict[str, Any] = {
        "ticket": ticket_payload(ticket, known),
        "actor": _actor_name(actor),
        **jsonable(extra),
    }
    title = headline(kind, base)
    in_app_data = dict(base)
    email_context = {**base, "headline": title}
    if message is not None:
        in_app_data["message"] = message_payload(message, excerpt=True)
        email_context["message"] = message_payload(message)
    event_id = uuid.uuid4()
    notification_ids, email_ids = _write_for_people(
        recipients,
        kind=kind,
        event_id=event_id,
        project_id=ticket.project_id,
        ticket_id=ticket.pk,
        actor=actor,
        title=title,
        in_app_data=in_app_data,
        email_context=email_context,
        now=now,
    )
    deliveries: Ids = []
    if entry.webhook and kind != "ticket.noted":
        hook_data = dict(base)
        if message is not None:
            hook_data["message"] = message_payload(message)
        deliveries = record_webhook_event(
            project_id=ticket.project_id, kind=kind, data=hook_data, occurred_at=now
        )
    _after_commit(notification_ids, email_ids, deliveries)


def notify_ticket_events(events: list[BatchEvent]) -> None:
    """`notify_ticket_event` for many events at once (inside the caller's transaction).

    The same recipients, preferences, visibility and one-e-mail-per-recipient-per-event rules
    (`recipients.batch_recipients` applies `ticket_recipients`' rules), the same rows and payloads;
    but a handful of statements for the whole batch (candidates, notifications, e-mails, webhook
    deliveries) and one dispatch task after commit. Events with a message (comments, notes,
    mentions) take `notify_ticket_event`. A ticket's watchers must not change between two of its
    events in one batch (see `batch_recipients`).
    """
    if not events:
        return
    for event in events:
        if "message" in event.extra:
            raise ValueError("Events with a message go through notify_ticket_event.")
        _kind(event.kind)
    recipients, known = batch_recipients(events)
    now = timezone.now()
    in_app: list[dict[str, Any]] = []
    mail: list[dict[str, Any]] = []
    hooks: list[tuple[int, str, dict[str, Any]]] = []
    for event, people in zip(events, recipients, strict=True):
        ticket, kind = event.ticket, event.kind
        extra = dict(event.extra)
        extra.pop("public", None)
        base: dict[str, Any] = {
            "ticket": ticket_payload(ticket, known),
            "actor": _actor_name(event.actor),
            **jsonable(extra),
        }
        title = headline(kind, base)
        notification, mail_row = _event_rows(
            people,
            kind=kind,
            event_id=uuid.uuid4(),
            project_id=ticket.project_id,
            ticket_id=ticket.pk,
            actor=event.actor,
            title=title,
            in_app_data=base,
            email_context={**base, "headline": title},
        )
        if notification is not None:
            in_app.append(notification)
        if mail_row is not None:
            mail.append(mail_row)
        if CATALOGUE[kind].webhook and kind != "ticket.noted":
            hooks.append((ticket.project_id, kind, base))
    notification_ids = _fan_out(sql.FAN_OUT_NOTIFICATIONS, in_app, now)
    email_ids = _fan_out(sql.FAN_OUT_EMAILS, mail, now)
    delivery_ids = record_webhook_events(hooks, occurred_at=now) if hooks else []
    _after_commit(notification_ids, email_ids, delivery_ids)


def _fan_out(statement: str, rows: list[dict[str, Any]], now: datetime) -> Ids:
    """One statement for the rows of one or more events: each event travels once and PostgreSQL
    makes a row per person."""
    if not rows:
        return []
    relay_after = now + timedelta(seconds=settings.OUTBOX_RELAY_GRACE_SECONDS)
    params = {"rows": json.dumps(rows, ensure_ascii=False), "now": now, "relay_after": relay_after}
    return [row[0] for row in fetch_all(statement, params)]


def notify_project_event(
    *, kind: str, project_id: int, data: dict[str, Any], actor: Any = None
) -> None:
    """A project-level event with no ticket (e.g. `export.succeeded`) for webhooks and admins."""
    entry = _kind(kind)
    payload = {**jsonable(data), "actor": _actor_name(actor)}
    deliveries: Ids = []
    if entry.webhook:
        deliveries = record_webhook_event(project_id=project_id, kind=kind, data=payload)
    notification_ids: Ids = []
    email_ids: Ids = []
    if entry.audience == "admins":
        notification_ids, email_ids = _to_admins(kind, project_id, payload, actor)
    _after_commit(notification_ids, email_ids, deliveries)


def notify_project_admins(*, kind: str, project_id: int, data: dict[str, Any]) -> None:
    """Tell a project's admins something (in-app and e-mail by their preferences); no webhooks."""
    _kind(kind)
    notification_ids, email_ids = _to_admins(kind, project_id, jsonable(data), None)
    _after_commit(notification_ids, email_ids, [])


def notify_user(*, user: User, kind: str, data: dict[str, Any]) -> None:
    """A notification for one user (e.g. their export finished): in-app, pushed, maybe e-mailed.

    `data` may carry `project_id` to tie the notification to a project. Works inside or outside
    a transaction (outside, the push is queued at once).
    """
    _kind(kind)
    payload = jsonable(data)
    recipient = user_recipient(user, kind, reason="owner")
    if recipient is None:
        return
    title = headline(kind, payload)
    notification_ids, email_ids = _write_for_people(
        [recipient],
        kind=kind,
        event_id=uuid.uuid4(),
        project_id=payload.get("project_id"),
        ticket_id=None,
        actor=None,
        title=title,
        in_app_data=payload,
        email_context={**payload, "headline": title},
        now=timezone.now(),
    )
    _after_commit(notification_ids, email_ids, [])


def _to_admins(kind: str, project_id: int, payload: dict[str, Any], actor: Any) -> tuple[Ids, Ids]:
    actor_id = getattr(actor, "pk", None)
    recipients = []
    for admin in project_admins(project_id):
        if admin.pk == actor_id:
            continue
        prefs = stored_preferences(admin)
        recipient = Recipient(
            user=admin,
            role="admin",
            reasons=["project_admin"],
            in_app=channel_enabled(prefs, kind, "in_app"),
            email=bool(admin.email) and channel_enabled(prefs, kind, "email"),
        )
        if recipient.in_app or recipient.email:
            recipients.append(recipient)
    title = headline(kind, payload)
    return _write_for_people(
        recipients,
        kind=kind,
        event_id=uuid.uuid4(),
        project_id=project_id,
        ticket_id=None,
        actor=actor,
        title=title,
        in_app_data=payload,
        email_context={**payload, "headline": title},
        now=timezone.now(),
    )


def _write_for_people(
    recipients: list[Recipient],
    *,
    kind: str,
    event_id: uuid.UUID,
    project_id: int | None,
    ticket_id: int | None,
    actor: Any,
    title: str,
    in_app_data: dict[str, Any],
    email_context: dict[str, Any],
    now: datetime,
) -> tuple[Ids, Ids]:
    """Insert the in-app rows and the e-mail rows of one event (two statements at most)."""
    notification, mail = _event_rows(
        recipients,
        kind=kind,
        event_id=event_id,
        project_id=project_id,
        ticket_id=ticket_id,
        actor=actor,
        title=title,
        in_app_data=in_app_data,
        email_context=email_context,
    )
    return (
        _fan_out(sql.FAN_OUT_NOTIFICATIONS, [notification] if notification else [], now),
        _fan_out(sql.FAN_OUT_EMAILS, [mail] if mail else [], now),
    )


def _event_rows(
    recipients: list[Recipient],
    *,
    kind: str,
    event_id: uuid.UUID,
    project_id: int | None,
    ticket_id: int | None,
    actor: Any,
    title: str,
    in_app_data: dict[str, Any],
    email_context: dict[str, Any],
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """One event's input to `sql.FAN_OUT_NOTIFICATIONS` and `sql.FAN_OUT_EMAILS` (None: nobody on
    that channel): what the people's rows share, once, and who they are."""
    actor_id = actor.pk if getattr(actor, "is_authenticated", False) else None
    users = [r.user.pk for r in recipients if r.in_app]
    notification = (
        {
            "event_id": str(event_id),
            "kind": kind,
            "project_id": project_id,
            "ticket_id": ticket_id,
            "actor_id": actor_id,
            "title": title[:300],
            "data": in_app_data,
            "users": users,
        }
        if users
        else None
    )
    to = [
        {
            "user_id": r.user.pk,
            "to_email": r.user.email,
            "recipient": r.user.display_name,
            "reasons": r.reasons,
        }
        for r in recipients
        if r.email
    ]
    mail = (
        {
            "event_id": str(event_id),
            "kind": kind,
            "subject": subject_for(title, email_context.get("ticket")),
            "context": email_context,
            "to": to,
        }
        if to
        else None
    )
    return notification, mail


def _after_commit(notification_ids: Ids, email_ids: Ids, deliveries: Ids) -> None:
    """One task per event after commit: push, then fan the e-mails and deliveries out.

    Any of the ids may be a write-behind statement whose rows (the ids) arrive with the COMMIT;
    they are read in the after-commit hook.
    """
    if not (notification_ids or email_ids or deliveries):
        return
    from notifications.tasks import dispatch_event_task

    def dispatch() -> None:
        ids = [_ids(notification_ids), _ids(email_ids), _ids(deliveries)]
        if any(ids):
            dispatch_event_task.delay(*ids)

    # Robust: a broker outage must not turn a committed change into an error; the relay re-queues.
    transaction.on_commit(dispatch, robust=True)
