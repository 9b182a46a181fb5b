"""Who else has a ticket open: the `viewing` indicator on the board socket (real uvicorn, real
Redis, real `websockets` clients), with the same rules as `editing`."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from notifications.client import BoardClient
from notifications.models import BoardEvent
from notifications.tests import test_realtime_ws as ws_suite
from tests_support.factories import make_ticket

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]

live = ws_suite.live
tokens = ws_suite.tokens
_same_channel_layer_as_the_servers = ws_suite._same_channel_layer_as_the_servers
board_client, close_all = ws_suite.board_client, ws_suite.close_all


def test_viewing_a_ticket_is_seen_by_the_others_and_ends_with_the_page(live, desk, tokens):
    ticket = make_ticket(desk["project"], desk["agent"])
    events_before = BoardEvent.objects.count()

    def seen(client: BoardClient) -> list[dict[str, Any]]:
        return [m for m in client.messages if m["type"] == "viewing"]

    async def scenario() -> None:
        viewer, colleague = board_client(live, tokens["agent"]), board_client(live, tokens["lead"])
        await viewer.connect()
        await colleague.connect()
        await viewer.wait_until(lambda: viewer.presence is not None)
        await colleague.wait_until(lambda: colleague.presence is not None)
        await viewer.send({"type": "viewing", "ticket_id": ticket.pk, "active": True})
        await colleague.wait_until(lambda: len(seen(colleague)) == 1)
        assert seen(colleague)[0] == {
            "type": "viewing",
            "ticket_id": ticket.pk,
            "user": "agent",
            "active": True,
        }
        # Someone opening the page later is told who is already on it.
        late = board_client(live, tokens["manager"])
        await late.connect()
        await late.wait_until(lambda: late.indicators.get(("viewing", ticket.pk, "agent")) is True)
        # Leaving the page ends it everywhere; the sender never hears its own.
        await viewer.send({"type": "viewing", "ticket_id": ticket.pk, "active": False})
        await colleague.wait_until(
            lambda: colleague.indicators[("viewing", ticket.pk, "agent")] is False
        )
        await late.wait_until(lambda: late.indicators[("viewing", ticket.pk, "agent")] is False)
        assert seen(viewer) == []
        await viewer.send({"type": "viewing", "ticket_id": 10**9, "active": True})
        await viewer.wait_until(lambda: bool(viewer.errors))
        assert viewer.errors[0]["code"] == "not_found"
        await close_all(viewer, colleague, late)

    asyncio.run(scenario())
    assert BoardEvent.objects.count() == events_before
