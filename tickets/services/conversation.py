"""The conversation of a ticket (public replies and internal notes), its watchers and its
attachments."""

from __future__ import annotations

import hashlib
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from config.api import Forbidden, InvalidInput, PayloadTooLarge
from notifications.services import record_board_event
from sla import services as sla_services
from tickets.audit import record_audit
from tickets.models import Attachment, Message, Watcher
from tickets.permissions import is_staff_role
from tickets.selectors import get_visible_ticket, memberships
from tickets.services.events import notify
from tickets.services.tickets import touch_and_refresh_search_vector

# --- conversation and watchers ------------------------------------------------------------------


def add_message(*, actor: Any, ticket_id: int, body: str, internal: bool = False) -> Message:
    """Post a public reply or an internal note; the first public staff reply is the first response."""
    if not body or not body.strip():
        raise InvalidInput("body cannot be empty.")
    now = timezone.now()
    with transaction.atomic():
        # The memberships once: the visibility rule and the author's role both read them.
        roles = {} if actor.is_superuser else memberships(actor)
        ticket = get_visible_ticket(actor, ticket_id, for_update=True, roles=roles)
        staff = actor.is_superuser or is_staff_role(roles.get(ticket.project_id))
        if internal and not staff:
            raise Forbidden("Only agents can write internal notes.")
        message = Message.objects.create(ticket=ticket, author=actor, body=body, internal=internal)
        first_response = staff and not internal and ticket.first_response_at is None
        ticket.updated_at = now
        if first_response:
            ticket.first_response_at = now
        if internal:
            ticket.save(update_fields=["updated_at"])
        else:
            # One write of the ticket row: the search vector with the new reply, and the times.
            touch_and_refresh_search_vector(
                ticket.pk, now=now, first_response_at=now if first_response else None
            )
        record_audit(
            actor=actor,
            action="message.internal_added" if internal else "message.added",
            project_id=ticket.project_id,
            ticket_id=ticket.pk,
            new={"message_id": message.pk, "internal": internal},
        )
        if first_response:
            sla_services.first_response(ticket=ticket, now=now)
        if not internal:
            # Internal notes stay off the board's event stream and off every outbound channel.
            record_board_event(
                actor=actor,
                project_id=ticket.project_id,
                type="ticket.commented",
                data={"id": ticket.pk, "key": ticket.key, "message_id": message.pk},
                ticket_id=ticket.pk,
            )
            notify("ticket.commented", ticket, actor, message=message)
        else:
            notify("ticket.noted", ticket, actor, message=message)
    return message


def watch_ticket(
    *, actor: Any, ticket_id: int, notify_in_app: bool = True, notify_email: bool = True
) -> Watcher:
    """Start (or update) watching a ticket with per-channel preferences."""
    with transaction.atomic():
        ticket = get_visible_ticket(actor, ticket_id)
        watcher, _ = Watcher.objects.update_or_create(
            ticket=ticket,
            user=actor,
            defaults={"notify_in_app": notify_in_app, "notify_email": notify_email},
        )
        record_audit(
            actor=actor,
            action="ticket.watched",
            project_id=ticket.project_id,
            ticket_id=ticket.pk,
            new={"user": actor.username, "in_app": notify_in_app, "email": notify_email},
        )
    return watcher


def unwatch_ticket(*, actor: Any, ticket_id: int) -> None:
    """Stop watching a ticket (idempotent)."""
    with transaction.atomic():
        ticket = get_visible_ticket(actor, ticket_id)
        deleted, _ = Watcher.objects.filter(ticket=ticket, user=actor).delete()
        if deleted:
            record_audit(
                actor=actor,
                action="ticket.unwatched",
                project_id=ticket.project_id,
                ticket_id=ticket.pk,
                old={"user": actor.username},
            )


# --- attachments --------------------------------------------------------------------------------


def add_attachment(*, actor: Any, ticket_id: int, upload: UploadedFile) -> Attachment:
    """Store an upload (size limit, content-type allow-list, sha256) on a ticket."""
    if upload.size is not None and upload.size > settings.ATTACHMENT_MAX_BYTES:
        raise PayloadTooLarge(
            f"Attachments are limited to {settings.ATTACHMENT_MAX_BYTES} bytes.",
            details={"max_bytes": settings.ATTACHMENT_MAX_BYTES, "size": upload.size},
        )
    content_type = (upload.content_type or "").split(";")[0].strip().lower()
    if content_type not in settings.ATTACHMENT_CONTENT_TYPES:
        raise InvalidInput(
            f"Files of type {content_type or 'unknown'!r} are not accepted.",
            details={"allowed": settings.ATTACHMENT_CONTENT_TYPES},
        )
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    ticket = get_visible_ticket(actor, ticket_id)
    name = (upload.name or "upload").replace("\\", "/").rsplit("/", 1)[-1][:200] or "upload"
    # The file is written before the row; if the transaction fails, the orphan is removed.
    with transaction.atomic():
        attachment = Attachment(
            ticket=ticket,
            filename=name,
            content_type=content_type,
            size=upload.size or 0,
            sha256=digest.hexdigest(),
            uploaded_by=actor,
        )
        attachment.file.save(name, upload, save=False)
        stored_name = attachment.file.name or ""
        try:
            attachment.save()
            record_audit(
                actor=actor,
                action="attachment.added",
                project_id=ticket.project_id,
                ticket_id=ticket.pk,
                new={
                    "attachment_id": attachment.pk,
                    "filename": name,
                    "size": attachment.size,
                    "sha256": attachment.sha256,
                },
            )
        except Exception:
            attachment.file.storage.delete(stored_name)
            raise
    return attachment


def record_attachment_view(*, actor: Any, attachment: Attachment) -> None:
    """Viewing a sensitive ticket's attachment leaves an audit row."""
    ticket = attachment.ticket
    if ticket.is_sensitive:
        record_audit(
            actor=actor,
            action="attachment.viewed",
            project_id=ticket.project_id,
            ticket_id=ticket.pk,
            new={"attachment_id": attachment.pk, "filename": attachment.filename},
        )
