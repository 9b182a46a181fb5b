"""The sockets as a browser meets them: the session cookie from the real sign-in endpoint, the
`Origin` check, and the `hello` answer's `server_now` (real gunicorn, uvicorn and `websockets`)."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import websockets
from websockets.exceptions import InvalidStatus

from notifications.services import current_seq
from notifications.tests import test_realtime_ws as ws_suite
from tests_support.factories import PASSWORD, make_ticket
from tests_support.live import asgi_server

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]

live = ws_suite.live
tokens = ws_suite.tokens
_same_channel_layer_as_the_servers = ws_suite._same_channel_layer_as_the_servers
db = ws_suite.db

# The UI is served by the API's origin (:8000 in development); the sockets live on :8001.
UI_ORIGIN = "http://127.0.0.1:8000"
EVIL = "http://evil.example"


def session_cookie(api: str, username: str = "agent") -> str:
    """Sign in as a browser does (CSRF cookie, then the session endpoint) and return `sessionid`."""
    with httpx.Client(base_url=api, timeout=10) as http:
        assert http.get("/api/v1/auth/csrf/").status_code == 204
        signed_in = http.post(
            "/api/v1/auth/session/",
            json={"username": username, "password": PASSWORD},
            headers={"X-CSRFToken": http.cookies["csrftoken"]},
        )
        assert signed_in.status_code == 200, signed_in.text
        assert signed_in.json()["username"] == username
        return str(http.cookies["sessionid"])


def headers(cookie: str | None = None) -> dict[str, str]:
    return {"Cookie": f"sessionid={cookie}"} if cookie else {}


async def first_message(url: str, *, origin: str | None, cookie: str | None) -> dict[str, Any]:
    """Open a socket, say hello, and return the first message (or the close code as a dict)."""
    async with websockets.connect(
        url,
        origin=origin,  # type: ignore[arg-type]
        additional_headers=headers(cookie),
        open_timeout=10,
    ) as ws:
        try:
            if "/board/" in url:
                await ws.send(json.dumps({"type": "hello", "last_seq": 0}))
            return dict(json.loads(await asyncio.wait_for(ws.recv(), 5)))
        except websockets.ConnectionClosed:
            return {"closed": ws.close_code}


async def handshake_status(url: str, *, origin: str, cookie: str) -> int:
    """The HTTP status the server refuses the WebSocket handshake with."""
    with pytest.raises(InvalidStatus) as refused:
        async with websockets.connect(
            url,
            origin=origin,  # type: ignore[arg-type]
            additional_headers=headers(cookie),
            open_timeout=10,
        ):
            pass
    return int(refused.value.response.status_code)


def test_a_session_cookie_from_the_uis_origin_opens_both_sockets(live, desk):
    cookie = session_cookie(live.api)
    board, me = f"{live.ws}/ws/projects/DESK/board/", f"{live.ws}/ws/me/"
    seq = current_seq(desk["project"].pk)

    async def scenario() -> None:
        before = datetime.now(UTC)
        hello = await first_message(board, origin=UI_ORIGIN, cookie=cookie)
        after = datetime.now(UTC)
        assert set(hello) == {"type", "seq", "server_now"}
        assert hello["type"] == "hello"
        assert hello["seq"] == seq
        assert hello["server_now"].endswith("Z")
        server_now = datetime.fromisoformat(hello["server_now"])
        assert server_now.utcoffset() == timedelta(0)
        assert before <= server_now <= after
        assert await first_message(me, origin=UI_ORIGIN, cookie=cookie) == {
            "type": "welcome",
            "user": "agent",
        }

    asyncio.run(scenario())


def test_a_foreign_origin_is_refused_on_both_sockets_even_with_a_session(live, desk):
    cookie = session_cookie(live.api)
    board, me = f"{live.ws}/ws/projects/DESK/board/", f"{live.ws}/ws/me/"

    async def scenario() -> None:
        assert await handshake_status(board, origin=EVIL, cookie=cookie) == 403
        assert await handshake_status(me, origin=EVIL, cookie=cookie) == 403
        # A look-alike host is foreign too.
        look_alike = "http://127.0.0.1.evil.example"
        assert await handshake_status(me, origin=look_alike, cookie=cookie) == 403
        # Positive control: the same cookie from the UI's origin is welcome on both.
        assert (await first_message(board, origin=UI_ORIGIN, cookie=cookie))["type"] == "hello"
        welcome = await first_message(me, origin=UI_ORIGIN, cookie=cookie)
        assert welcome == {"type": "welcome", "user": "agent"}

    asyncio.run(scenario())


def test_without_an_origin_only_a_token_authenticates(live, desk, tokens):
    """A client that sends no Origin is not a browser: the cookie is ignored, `?token=` works."""
    cookie = session_cookie(live.api)
    board, me = f"{live.ws}/ws/projects/DESK/board/", f"{live.ws}/ws/me/"

    async def scenario() -> None:
        assert await first_message(board, origin=None, cookie=cookie) == {"closed": 4401}
        assert await first_message(me, origin=None, cookie=cookie) == {"closed": 4401}
        token = tokens["agent"]
        hello = await first_message(f"{board}?token={token}", origin=None, cookie=None)
        assert hello["type"] == "hello"
        welcome = await first_message(f"{me}?token={token}", origin=None, cookie=None)
        assert welcome == {"type": "welcome", "user": "agent"}

    asyncio.run(scenario())


def test_a_signed_out_session_no_longer_opens_a_socket(live, desk):
    board = f"{live.ws}/ws/projects/DESK/board/"
    with httpx.Client(base_url=live.api, timeout=10) as http:
        http.get("/api/v1/auth/csrf/")
        http.post(
            "/api/v1/auth/session/",
            json={"username": "lead", "password": PASSWORD},
            headers={"X-CSRFToken": http.cookies["csrftoken"]},
        )
        cookie = str(http.cookies["sessionid"])
        assert asyncio.run(first_message(board, origin=UI_ORIGIN, cookie=cookie))["type"] == "hello"
        out = http.delete(
            "/api/v1/auth/session/", headers={"X-CSRFToken": http.cookies["csrftoken"]}
        )
        assert out.status_code == 204
    assert asyncio.run(first_message(board, origin=UI_ORIGIN, cookie=cookie)) == {"closed": 4401}


def test_an_explicit_origin_list_replaces_the_allowed_hosts(live, desk):
    cookie = session_cookie(live.api)
    env = {**ws_suite.LIVE_ENV, "CHANNELS_PREFIX": ws_suite.channels_prefix()}
    with asgi_server(WS_ALLOWED_ORIGINS="https://desk.example.com", **env) as ws:
        board, me = f"{ws}/ws/projects/DESK/board/", f"{ws}/ws/me/"

        async def scenario() -> None:
            # The scheme and port are part of an explicit origin.
            for origin in (UI_ORIGIN, "http://desk.example.com", "https://desk.example.com:8443"):
                assert await handshake_status(me, origin=origin, cookie=cookie) == 403
            hello = await first_message(board, origin="https://desk.example.com", cookie=cookie)
            assert hello["type"] == "hello"

        asyncio.run(scenario())


def test_the_hello_answer_comes_before_the_replay(live, desk, tokens):
    make_ticket(desk["project"], desk["agent"], title="one")
    make_ticket(desk["project"], desk["agent"], title="two")
    seq = current_seq(desk["project"].pk)
    assert seq >= 2
    url = f"{live.ws}/ws/projects/DESK/board/?token={tokens['agent']}"

    async def scenario() -> None:
        async with websockets.connect(url, open_timeout=10) as ws:
            await ws.send(json.dumps({"type": "hello", "last_seq": seq - 2}))
            kinds = []
            for _ in range(3):
                message = json.loads(await asyncio.wait_for(ws.recv(), 5))
                kinds.append((message["type"], message["seq"]))
        assert kinds == [
            ("hello", seq),
            ("ticket.created", seq - 1),
            ("ticket.created", seq),
        ]

    asyncio.run(scenario())
