"""Who may hold a board socket, revocation while connected, presence and editing/moving indicators
(real uvicorn, real Redis, real `websockets` clients)."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import websockets
from rest_framework.authtoken.models import Token

from config.redis import get_redis
from notifications.client import BoardClient
from notifications.models import BoardEvent
from notifications.services import current_seq
from notifications.tests import test_realtime_ws as ws_suite
from tests_support.factories import make_project, make_ticket
from tests_support.live import ROOT, VENV_BIN, free_port, process_env, wait_for_port

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]

# The same servers, tokens and channel-layer prefix as the delivery tests (fixtures by name).
live = ws_suite.live
tokens = ws_suite.tokens
_same_channel_layer_as_the_servers = ws_suite._same_channel_layer_as_the_servers
board_client, close_all, converge, db, writes = (
    ws_suite.board_client,
    ws_suite.close_all,
    ws_suite.converge,
    ws_suite.db,
    ws_suite.writes,
)


def names(client: BoardClient) -> list[str]:
    return [u["username"] for u in client.presence or []]


async def close_code(url: str) -> int | None:
    """Open a board socket, say hello, and return the code the server closes it with."""
    async with websockets.connect(url) as ws:
        with pytest.raises(websockets.ConnectionClosed):
            await ws.send(json.dumps({"type": "hello", "last_seq": 0}))
            while True:
                await asyncio.wait_for(ws.recv(), 5)
        return ws.close_code


def test_only_staff_members_may_open_a_board_socket(live, desk, tokens, site_admin):
    make_project("OPS")
    admin_token = Token.objects.create(user=site_admin).key
    board = f"{live.ws}/ws/projects/DESK/board/"

    async def scenario() -> None:
        assert await close_code(f"{board}?token={tokens['outsider']}") == 4403
        assert await close_code(f"{board}?token={tokens['customer']}") == 4403
        assert (
            await close_code(f"{live.ws}/ws/projects/NOPE/board/?token={tokens['agent']}") == 4403
        )
        assert await close_code(f"{live.ws}/ws/projects/OPS/board/?token={tokens['agent']}") == 4403
        assert await close_code(board) == 4401
        assert await close_code(f"{board}?token=not-a-token") == 4401
        # Agents and up, and site admins, are welcome.
        for token in (tokens["agent"], tokens["admin"], admin_token):
            client = BoardClient(api_url=live.api, ws_url=live.ws, project="DESK", token=token)
            await client.connect()
            await client.wait_until(lambda: client.presence is not None)  # noqa: B023 - awaited at once
            assert client.close_code is None
            await converge(desk["project"].pk, client)
            await client.close()

    asyncio.run(scenario())


def test_a_removed_member_is_closed_at_once_and_hears_nothing_more(live, desk, tokens):
    from tickets.models import Membership, Role
    from tickets.services.projects import remove_member

    project, agent = desk["project"], desk["agent"]
    ops = make_project("OPS")
    Membership.objects.create(user=agent, project=ops, role=Role.AGENT)
    membership = Membership.objects.get(user=agent, project=project)

    async def scenario() -> None:
        tabs = [board_client(live, tokens["agent"]) for _ in range(2)]
        elsewhere = board_client(live, tokens["agent"], project="OPS")
        stays = board_client(live, tokens["lead"])
        for client in [*tabs, elsewhere, stays]:
            await client.connect()
        # Everything already on its way to the tabs has arrived before the snapshot.
        for client in (*tabs, stays):
            await client.wait_until(lambda: names(client) == ["agent", "lead"])  # noqa: B023 - awaited at once
        seen = [len(tab.messages) for tab in tabs]
        removed_at: list[float] = []

        def remove_then_write() -> None:
            remove_member(actor=desk["admin"], membership=membership)
            removed_at.append(time.monotonic())
            # Events committed right behind the revocation race its push.
            writes(project, desk["lead"], 2, tag="after")

        writing = asyncio.create_task(db(remove_then_write))
        for tab in tabs:
            assert await tab.wait_closed(timeout=2.0) == 4403
        closed_at = time.monotonic()
        await writing
        assert closed_at - removed_at[0] < 1.0
        await converge(project.pk, stays)
        end = await db(current_seq, project.pk)
        assert stays.socket_seqs[-2:] == [end - 1, end]
        # Nothing but heartbeats already on the wire reached the tabs after the snapshot: no
        # events, no presence.
        for tab, count in zip(tabs, seen, strict=True):
            assert tab.socket_seqs == []
            assert {m["type"] for m in tab.messages[count:]} <= {"heartbeat"}
        await stays.wait_until(lambda: [u["username"] for u in stays.presence or []] == ["lead"])
        # Another project's board is untouched.
        beats = len(elsewhere.heartbeats)
        await elsewhere.wait_until(lambda: len(elsewhere.heartbeats) > beats + 1)
        assert elsewhere.close_code is None
        await close_all(*tabs, elsewhere, stays)

    asyncio.run(scenario())


def test_a_membership_deleted_without_a_push_is_caught_by_the_heartbeat(live, desk, tokens):
    from tickets.models import Membership

    async def scenario() -> None:
        client = board_client(live, tokens["agent"])
        await client.connect()
        # A revocation push lost with Redis: the membership row is gone, nobody told the socket.
        await db(Membership.objects.filter(user=desk["agent"], project=desk["project"]).delete)
        assert await client.wait_closed(timeout=2.0) == 4403
        await client.close()

    asyncio.run(scenario())


def test_a_deactivated_user_loses_every_socket(live, desk, tokens):
    from tickets.models import Membership, Role
    from tickets.services.people import update_user

    agent = desk["agent"]
    Membership.objects.create(user=agent, project=make_project("OPS"), role=Role.AGENT)

    async def scenario() -> None:
        desk_board = board_client(live, tokens["agent"])
        ops_board = board_client(live, tokens["agent"], project="OPS")
        for client in (desk_board, ops_board):
            await client.connect()
        async with websockets.connect(f"{live.ws}/ws/me/?token={tokens['agent']}") as me:
            await asyncio.wait_for(me.recv(), 5)  # welcome
            await db(update_user, actor=desk["admin"], user=agent, changes={"is_active": False})
            assert await desk_board.wait_closed(timeout=1.0) == 4403
            assert await ops_board.wait_closed(timeout=1.0) == 4403
            with pytest.raises(websockets.ConnectionClosed):
                await asyncio.wait_for(me.recv(), 1.0)
            assert me.close_code == 4403
        await close_all(desk_board, ops_board)

    asyncio.run(scenario())


# --- presence -----------------------------------------------------------------------------------


def test_presence_follows_joins_and_leaves_once_per_person(live, desk, tokens):
    async def scenario() -> None:
        agent = board_client(live, tokens["agent"])
        await agent.connect()
        await agent.wait_until(lambda: names(agent) == ["agent"])
        lead_tabs = [board_client(live, tokens["lead"]) for _ in range(2)]
        await lead_tabs[0].connect()
        await agent.wait_until(lambda: names(agent) == ["agent", "lead"])
        assert lead_tabs[0].presence == [
            {"username": "agent", "full_name": ""},
            {"username": "lead", "full_name": ""},
        ]
        updates = sum(1 for m in agent.messages if m["type"] == "presence")
        # A second tab of the same person changes nobody's list.
        await lead_tabs[1].connect()
        await lead_tabs[1].wait_until(lambda: names(lead_tabs[1]) == ["agent", "lead"])
        await lead_tabs[0].disconnect()
        await asyncio.sleep(0.6)  # a heartbeat or more
        assert sum(1 for m in agent.messages if m["type"] == "presence") == updates
        await lead_tabs[1].disconnect()
        await agent.wait_until(lambda: names(agent) == ["agent"])
        await converge(desk["project"].pk, agent, *lead_tabs)
        await close_all(agent, *lead_tabs)

    asyncio.run(scenario())


@contextmanager
def killable_asgi_server(**env: str) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """A second uvicorn the test may SIGKILL (a crash: its sockets never say goodbye)."""
    port = free_port()
    log = (ROOT / ".data" / f"uvicorn-{port}.log").open("wb")
    proc = subprocess.Popen(
        [str(VENV_BIN / "uvicorn"), "config.asgi:application", "--port", str(port)],
        cwd=ROOT,
        env=process_env(**env),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for_port(port, proc)
        yield f"ws://127.0.0.1:{port}", proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        log.close()


def test_presence_expires_when_a_server_dies_without_goodbye(live, desk, tokens):
    project = desk["project"]
    env = {**ws_suite.LIVE_ENV, "CHANNELS_PREFIX": ws_suite.channels_prefix()}

    async def scenario(doomed_url: str, doomed: subprocess.Popen[bytes]) -> None:
        watcher = board_client(live, tokens["agent"])
        ghost = BoardClient(
            api_url=live.api, ws_url=doomed_url, project="DESK", token=tokens["lead"]
        )
        await watcher.connect()
        await ghost.connect()
        await watcher.wait_until(lambda: names(watcher) == ["agent", "lead"])
        doomed.send_signal(signal.SIGKILL)
        killed_at = time.monotonic()
        # The dead server removed nothing: the entry is still there until its TTL runs out.
        redis = get_redis()
        assert redis.zcard(f"board:people:{project.pk}") == 2
        assert redis.zcard(f"board:sockets:{project.pk}:{desk['lead'].pk}") == 1
        await watcher.wait_until(lambda: names(watcher) == ["agent"], timeout=5)
        # TTL 1.5 s after the last refresh, noticed at a watcher's heartbeat (every 0.5 s).
        assert 0.5 < time.monotonic() - killed_at < 3.0
        assert watcher.close_code is None
        await converge(project.pk, watcher)
        await close_all(watcher, ghost)

    with killable_asgi_server(**env) as (url, proc):
        asyncio.run(scenario(url, proc))


# --- editing / moving ---------------------------------------------------------------------------


def test_editing_and_moving_are_broadcast_not_logged_and_expire_alone(live, desk, tokens):
    from tickets.models import Membership, Role

    project, agent = desk["project"], desk["agent"]
    ticket = make_ticket(project, agent)
    ops = make_project("OPS")
    Membership.objects.create(user=agent, project=ops, role=Role.AGENT)
    other_ticket = make_ticket(ops, agent)
    events_before, seq_before = BoardEvent.objects.count(), current_seq(project.pk)

    def indicators(client: BoardClient, kind: str) -> list[dict[str, Any]]:
        return [m for m in client.messages if m["type"] == kind]

    async def scenario() -> None:
        editor, watcher = board_client(live, tokens["agent"]), board_client(live, tokens["lead"])
        early = board_client(live, tokens["manager"])
        await early.connect(hello=False)
        await early.send({"type": "editing", "ticket_id": ticket.pk, "active": True})
        await early.wait_until(lambda: bool(early.errors))
        assert early.errors[0]["code"] == "hello_required"
        await editor.connect()
        await watcher.connect()
        await editor.wait_until(lambda: editor.presence is not None)
        await watcher.wait_until(lambda: watcher.presence is not None)

        await editor.send({"type": "editing", "ticket_id": ticket.pk, "active": True})
        await watcher.wait_until(lambda: len(indicators(watcher, "editing")) == 1)
        started = time.monotonic()
        assert indicators(watcher, "editing")[0] == {
            "type": "editing",
            "ticket_id": ticket.pk,
            "user": "agent",
            "active": True,
        }
        # Someone opening the board now sees who is editing.
        late = board_client(live, tokens["manager"])
        await late.connect()
        await late.wait_until(lambda: late.indicators.get(("editing", ticket.pk, "agent")) is True)
        # Nobody renews it: it expires on its own (TTL 1 s), everywhere.
        await watcher.wait_until(lambda: len(indicators(watcher, "editing")) == 2, timeout=3)
        assert indicators(watcher, "editing")[1]["active"] is False
        assert 0.8 < time.monotonic() - started < 2.5
        await late.wait_until(lambda: late.indicators[("editing", ticket.pk, "agent")] is False)

        await editor.send({"type": "moving", "ticket_id": ticket.pk, "active": True})
        await watcher.wait_until(
            lambda: watcher.indicators.get(("moving", ticket.pk, "agent")) is True
        )
        await editor.send({"type": "moving", "ticket_id": ticket.pk, "active": False})
        await watcher.wait_until(
            lambda: watcher.indicators[("moving", ticket.pk, "agent")] is False
        )
        # A tab that goes away mid-edit clears its indicator.
        await editor.send({"type": "editing", "ticket_id": ticket.pk, "active": True})
        await watcher.wait_until(
            lambda: watcher.indicators[("editing", ticket.pk, "agent")] is True
        )
        await editor.disconnect()
        await watcher.wait_until(
            lambda: watcher.indicators[("editing", ticket.pk, "agent")] is False, timeout=0.5
        )
        # The sender never gets its own indicators back; bad ones are refused.
        assert indicators(editor, "editing") == [] and indicators(editor, "moving") == []
        await watcher.send({"type": "editing", "ticket_id": other_ticket.pk, "active": True})
        await watcher.send({"type": "moving", "ticket_id": ticket.pk, "active": "yes"})
        await watcher.wait_until(lambda: len(watcher.errors) == 2)
        assert [e["code"] for e in watcher.errors] == ["not_found", "validation_error"]
        await converge(project.pk, watcher, late)
        await close_all(editor, watcher, early, late)

    asyncio.run(scenario())
    # Ephemeral: nothing of it is in the log.
    assert BoardEvent.objects.count() == events_before
    assert current_seq(project.pk) == seq_before
