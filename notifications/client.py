"""A small Python client of the board protocol: what the web UI does, without the UI.

It keeps a local board (columns and tickets) patched by events, tracks `seq`, notices a gap (an
event beyond `seq + 1`, or a heartbeat carrying a higher seq), fetches what it missed over HTTP
(`GET .../events/?after=`), and reloads the board on `resync_required` (or a 410). The suite
checks that its board equals a fresh `GET .../board/`; the benchmark uses it to time delivery.
`LocalBoard` is the pure part (no I/O), so it is tested on its own.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import httpx
import websockets
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

# What a board card shows and every ticket event carries; the comparison with the server uses these.
TICKET_FIELDS = ("id", "key", "title", "status", "rank", "priority", "category", "assignee")
TICKET_EVENTS = ("ticket.created", "ticket.updated", "ticket.moved")


def _card(ticket: dict[str, Any]) -> dict[str, Any]:
    assignee = ticket.get("assignee")
    if isinstance(assignee, dict):
        assignee = assignee.get("username")
    return {**{f: ticket.get(f) for f in TICKET_FIELDS}, "assignee": assignee}


def _status_keys(column: dict[str, Any]) -> list[str]:
    if "status_keys" in column:
        return sorted(column["status_keys"])
    return sorted(s["key"] if isinstance(s, dict) else s for s in column.get("statuses", []))


class LocalBoard:
    """A board rebuilt from a snapshot plus events; `view()` is comparable with `normalise()`."""

    def __init__(self) -> None:
        self.seq: int | None = None
        self.columns: dict[int, dict[str, Any]] = {}
        self.tickets: dict[int, dict[str, Any]] = {}

    def load(self, board: dict[str, Any]) -> None:
        """Replace everything with a `GET board` response (all pages of every column)."""
        self.seq = int(board["seq"])
        self.columns = {
            c["id"]: {
                "id": c["id"],
                "name": c["name"],
                "order": c["order"],
                "status_keys": _status_keys(c),
            }
            for c in board["columns"]
        }
        self.tickets = {t["id"]: _card(t) for c in board["columns"] for t in c["tickets"]}

    def apply(self, event: dict[str, Any]) -> bool:
        """Apply one event (the caller checked it is `seq + 1`); True when only a reload will do."""
        kind, data = event["type"], event.get("data") or {}
        self.seq = int(event["seq"])
        if kind in TICKET_EVENTS or (kind.startswith("ticket.") and {"id", "rank"} <= set(data)):
            if data.get("is_archived"):
                self.tickets.pop(data["id"], None)
            else:
                self.tickets[data["id"]] = _card(data)
        elif kind == "ticket.archived":
            self.tickets.pop(data["id"], None)
        elif kind in ("column.created", "column.updated"):
            old = self.columns.get(data["id"], {}).get("status_keys", [])
            self.columns[data["id"]] = {
                "id": data["id"],
                "name": data["name"],
                "order": data["order"],
                "status_keys": sorted(data["status_keys"]),
            }
            # Tickets of a newly shown status were never on this board: only a reload has them.
            return bool(set(data["status_keys"]) - set(old))
        elif kind == "column.deleted":
            self.columns.pop(data["id"], None)
        elif kind == "column.reordered":
            for position, column_id in enumerate(data["order"]):
                if column_id in self.columns:
                    self.columns[column_id]["order"] = position
        elif kind == "board.reranked":
            return True  # every rank changed; the event does not carry them
        return False

    def view(self) -> list[dict[str, Any]]:
        """Columns in order, each with its cards in rank order."""
        out = []
        for column in sorted(self.columns.values(), key=lambda c: (c["order"], c["id"])):
            keys = set(column["status_keys"])
            cards = [t for t in self.tickets.values() if t["status"] in keys]
            cards.sort(key=lambda t: (t["rank"].encode(), t["id"]))
            out.append(
                {
                    "id": column["id"],
                    "name": column["name"],
                    "status_keys": column["status_keys"],
                    "tickets": cards,
                }
            )
        return out

    @staticmethod
    def normalise(board: dict[str, Any]) -> list[dict[str, Any]]:
        """A `GET board` response in `view()`'s shape (the server's own ticket order kept)."""
        columns = sorted(board["columns"], key=lambda c: (c["order"], c["id"]))
        return [
            {
                "id": c["id"],
                "name": c["name"],
                "status_keys": _status_keys(c),
                "tickets": [_card(t) for t in c["tickets"]],
            }
            for c in columns
        ]


class BoardClient:
    """One agent's board over one socket, with HTTP for snapshots and catch-up."""

    def __init__(
        self,
        *,
        api_url: str,
        ws_url: str,
        project: str,
        token: str,
        http: httpx.AsyncClient | None = None,
        gap_grace: float = 1.0,
        open_timeout: float = 10.0,
    ) -> None:
        self.api_url, self.ws_url = api_url.rstrip("/"), ws_url.rstrip("/")
        self.project, self.token = project, token
        self.http = http or httpx.AsyncClient(timeout=10)
        self._own_http = http is None
        self.board = LocalBoard()
        # A heartbeat can read a seq whose push is still on its way: wait this long before
        # treating the difference as lost.
        self.gap_grace = gap_grace
        self.open_timeout = open_timeout
        self.lock = asyncio.Lock()  # one writer of the board at a time: the reader or a gap check
        self.gap_checks: set[asyncio.Task[None]] = set()
        self.ws: ClientConnection | None = None
        self.reader: asyncio.Task[None] | None = None
        self.close_code: int | None = None
        # Observations the suite and the benchmark assert on.
        self.messages: list[dict[str, Any]] = []
        self.socket_seqs: list[int] = []  # every event seq that came over a socket, duplicates too
        self.received_at: dict[int, int] = {}  # seq -> time.monotonic_ns() when it arrived
        self.applied_seqs: list[int] = []  # seqs applied to the board, from the socket or HTTP
        self.http_seqs: list[int] = []  # the subset fetched over HTTP
        self.heartbeats: list[int] = []
        self.gaps_noticed = 0
        self.reloads = 0
        self.presence: list[dict[str, str]] | None = None
        self.indicators: dict[tuple[str, int, str], bool] = {}
        self.errors: list[dict[str, Any]] = []
        self.pongs = 0
        self.server_now: str | None = None  # from the hello answer

    # --- HTTP ---------------------------------------------------------------------------------

    @property
    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Token {self.token}"}

    async def fetch_board(self) -> dict[str, Any]:
        """`GET board` with every column paged to the end."""
        response = await self.http.get(
            f"{self.api_url}/api/v1/projects/{self.project}/board/",
            params={"limit": 200},
            headers=self._headers,
        )
        response.raise_for_status()
        board: dict[str, Any] = response.json()
        for column in board["columns"]:
            url = column.get("next")
            while url:
                page = await self.http.get(url, headers=self._headers)
                page.raise_for_status()
                body = page.json()
                column["tickets"].extend(body["results"])
                url = body.get("next")
        return board

    async def server_view(self) -> list[dict[str, Any]]:
        """The server's board right now, in `LocalBoard.view()`'s shape."""
        return LocalBoard.normalise(await self.fetch_board())

    async def reload(self) -> None:
        """Throw the local board away and load a fresh one (its seq was read before its rows)."""
        self.board.load(await self.fetch_board())
        self.reloads += 1

    async def catch_up(self) -> None:
        """Fetch and apply the events after our seq over HTTP (a 410 means reload)."""
        while True:
            response = await self.http.get(
                f"{self.api_url}/api/v1/projects/{self.project}/events/",
                params={"after": self.board.seq},
                headers=self._headers,
            )
            if response.status_code == 410:
                await self.reload()
                return
            response.raise_for_status()
            body = response.json()
            for event in body["events"]:
                if await self._apply(event):
                    self.http_seqs.append(event["seq"])
            if not body["has_more"]:
                return

    # --- socket -------------------------------------------------------------------------------

    async def connect(self, *, hello: bool = True) -> None:
        """Open the socket (loading the board first if we have none) and say hello."""
        if self.board.seq is None and hello:
            await self.reload()
        url = f"{self.ws_url}/ws/projects/{quote(self.project)}/board/?token={quote(self.token)}"
        self.ws = await websockets.connect(url, open_timeout=self.open_timeout)
        self.close_code = None
        self.reader = asyncio.create_task(self._read(self.ws))
        if hello:
            await self.send({"type": "hello", "last_seq": self.board.seq})

    async def send(self, message: dict[str, Any]) -> None:
        assert self.ws is not None
        await self.ws.send(json.dumps(message))

    async def disconnect(self) -> None:
        """Close the socket but keep the board (going offline)."""
        if self.ws is not None:
            await self.ws.close()
        if self.reader is not None:
            await self.reader
        self.ws = self.reader = None

    async def close(self) -> None:
        await self.disconnect()
        for task in list(self.gap_checks):
            task.cancel()
        if self._own_http:
            await self.http.aclose()

    async def _read(self, ws: ClientConnection) -> None:
        try:
            async for raw in ws:
                arrived = time.monotonic_ns()
                async with self.lock:
                    await self._handle(json.loads(raw), arrived)
        except ConnectionClosed:
            pass
        finally:
            self.close_code = ws.close_code

    async def _handle(self, message: dict[str, Any], arrived: int) -> None:
        self.messages.append(message)
        kind = message.get("type")
        if kind == "heartbeat":
            self.heartbeats.append(message["seq"])
            if self.board.seq is not None and message["seq"] > self.board.seq:
                task = asyncio.create_task(self._check_gap(message["seq"]))
                self.gap_checks.add(task)
                task.add_done_callback(self.gap_checks.discard)
        elif kind == "hello":
            self.server_now = message["server_now"]
        elif kind == "resync_required":
            await self.reload()
        elif kind == "presence":
            self.presence = message["users"]
        elif kind in ("editing", "moving", "viewing"):
            self.indicators[(kind, message["ticket_id"], message["user"])] = message["active"]
        elif kind == "pong":
            self.pongs += 1
        elif kind == "error":
            self.errors.append(message)
        elif "seq" in message:
            seq = message["seq"]
            self.socket_seqs.append(seq)
            self.received_at.setdefault(seq, arrived)
            assert self.board.seq is not None
            if seq > self.board.seq + 1:
                self.gaps_noticed += 1
                await self.catch_up()
            await self._apply(message)

    async def _check_gap(self, seq: int) -> None:
        """Still short of a heartbeat's seq after the grace: a push was lost (Redis restarted,
        a subscription dropped), so fetch the rest over HTTP."""
        await asyncio.sleep(self.gap_grace)
        async with self.lock:
            if self.board.seq is not None and self.board.seq < seq:
                self.gaps_noticed += 1
                await self.catch_up()

    async def _apply(self, event: dict[str, Any]) -> bool:
        """Apply the event if it is the next one; False for a duplicate."""
        assert self.board.seq is not None
        if event["seq"] != self.board.seq + 1:
            return False
        needs_reload = self.board.apply(event)
        self.applied_seqs.append(event["seq"])
        if needs_reload:
            await self.reload()
        return True

    # --- waiting (tests and benchmarks) -------------------------------------------------------

    async def wait_until(self, predicate: Callable[[], bool], timeout: float = 5.0) -> None:
        """Poll until `predicate()` holds; TimeoutError after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise TimeoutError(f"condition not met within {timeout}s")
            await asyncio.sleep(0.01)

    async def wait_for_seq(self, seq: int, timeout: float = 5.0) -> None:
        await self.wait_until(lambda: (self.board.seq or 0) >= seq, timeout)

    async def wait_closed(self, timeout: float = 5.0) -> int | None:
        """Wait for the server to close the socket; returns the close code."""
        assert self.reader is not None
        await asyncio.wait_for(asyncio.shield(self.reader), timeout)
        return self.close_code
