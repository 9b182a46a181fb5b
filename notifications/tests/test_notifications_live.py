"""In-app notifications pushed live on `/ws/me/`: real ASGI server, real worker, real client."""

from __future__ import annotations

import asyncio
import json
import time

import pytest
from django.db import connection
from rest_framework.authtoken.models import Token

from notifications.models import Notification
from tests_support.factories import make_ticket
from tests_support.live import asgi_server, celery_worker
from tickets.services.conversation import add_message


def _post(**kwargs) -> None:
    """add_message from a helper thread, closing that thread's own database connection."""
    try:
        add_message(**kwargs)
    finally:
        connection.close()


@pytest.mark.live
@pytest.mark.django_db(transaction=True)
def test_a_committed_reply_is_pushed_to_the_recipient_and_an_internal_note_never_to_the_customer(
    desk,
):
    import websockets

    ticket = make_ticket(desk["project"], desk["customer"], title="Printer on fire")
    token = Token.objects.create(user=desk["customer"]).key

    async def listen(base: str) -> list[dict]:
        received: list[dict] = []
        async with websockets.connect(f"{base}/ws/me/?token={token}") as ws:
            assert json.loads(await asyncio.wait_for(ws.recv(), 10))["type"] == "welcome"
            await asyncio.to_thread(
                _post,
                actor=desk["agent"],
                ticket_id=ticket.pk,
                body="@customer internal: refund denied",
                internal=True,
            )
            await asyncio.to_thread(
                _post, actor=desk["agent"], ticket_id=ticket.pk, body="We are on it."
            )
            # Read until the socket has been quiet for a while: other pushes (the classifier's
            # result for the customer's new ticket) may arrive too; only notifications count.
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                try:
                    received.append(json.loads(await asyncio.wait_for(ws.recv(), 2.5)))
                except TimeoutError:
                    if any(m.get("type") == "notification" for m in received):
                        break
        return received

    with asgi_server() as base, celery_worker():
        received = asyncio.run(listen(base))

    # Exactly one notification, the public reply: the note reached staff only.
    [pushed] = [m for m in received if m.get("type") == "notification"]

    stored = Notification.objects.get(user=desk["customer"])
    assert pushed["type"] == "notification"
    notification = pushed["notification"]
    assert notification["id"] == stored.pk
    assert notification["kind"] == "ticket.commented"
    assert notification["title"] == f"agent replied on DESK-{ticket.number}"
    assert notification["data"]["message"]["body"] == "We are on it."
    assert notification["read"] is False
    assert not Notification.objects.filter(user=desk["customer"], kind="ticket.noted").exists()
