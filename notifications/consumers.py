"""WebSocket consumers: transport only (authenticate, authorize, join groups, forward).

The board socket's protocol is in docs/realtime.md. The event log in PostgreSQL is the truth; the
channel layer only speeds delivery up, so every gap it leaves is filled from the table.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from datetime import UTC, datetime
from typing import Any

import structlog
from channels.consumer import get_handler_name
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from config.api import ResyncRequired
from notifications import boardwatch, presence
from notifications.realtime import user_group

logger = structlog.get_logger(__name__)

CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403

# A client further behind than this reloads the board: cheaper than replaying thousands of events.
REPLAY_MAX_EVENTS = 1000
# Indicator commands a socket may send per second (a stuck client must not flood the board).
COMMANDS_PER_SECOND = 10


def utc_now_iso() -> str:
    """Now, as the API writes timestamps: ISO 8601 in UTC with a `Z`."""
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


class MeConsumer(AsyncJsonWebsocketConsumer):
    """`/ws/me/`: the user's own notifications, export progress and classification results."""

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            # Accept first: a close before accept is an HTTP 403 that carries no close code.
            await self.accept()
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        self.group = user_group(user.pk)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        await self.send_json({"type": "welcome", "user": user.username})

    async def disconnect(self, code: int) -> None:
        if hasattr(self, "group"):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if isinstance(content, dict) and content.get("type") == "ping":
            await self.send_json({"type": "pong"})

    async def user_message(self, event: dict[str, Any]) -> None:
        """A message for this user (notification, export progress, classification)."""
        await self.send_json(event["payload"])

    async def access_revoked(self, event: dict[str, Any]) -> None:
        if event.get("project_id") is None:  # the account was deactivated
            await self.close(code=CLOSE_FORBIDDEN)


class BoardConsumer(AsyncJsonWebsocketConsumer):
    """`/ws/projects/{key}/board/`: sequenced board events, replay, heartbeats, presence.

    Staff only (agents and up, or site admins): customers are refused with 4403 and follow their
    own tickets on `/ws/me/`. Per socket, `last_sent` is the highest seq delivered; anything at or
    below it is a duplicate and dropped, anything beyond `last_sent + 1` is preceded by the rows
    in between, read from the table.
    """

    project_id: int
    last_sent: int | None = None
    closing = False
    heartbeat_task: asyncio.Task[None] | None = None
    viewer: presence.Viewer | None = None
    watch: boardwatch.BoardWatch | None = None

    # Channels closes stale DB connections before *every* message; with hundreds of sockets on a
    # board that is a thread hop per socket per event. Only the DB calls need it, and
    # database_sync_to_async already does it around each of them.
    async def dispatch(self, message: dict[str, Any]) -> None:
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            # A message meant for another consumer of the user's group (e.g. `user.message`).
            return
        await handler(message)

    async def connect(self) -> None:
        user = self.scope.get("user")
        await self.accept()  # before any close, or the client sees an HTTP 403 with no code
        # Refused until proven otherwise: a hello already on the wire must find nothing to do.
        self.closing = True
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        project_id = await boardwatch.board_access(user, self.scope["url_route"]["kwargs"]["key"])
        if project_id is None:
            # Unknown project, not a member, or a customer: one answer, no existence leak.
            await self.close(code=CLOSE_FORBIDDEN)
            return
        self.closing = False
        self.project_id = project_id
        self.user_id: int = user.pk
        self.username: str = user.username
        self.board_group = f"board.{project_id}"
        self.indicator_timers: dict[tuple[str, int, str], asyncio.TimerHandle] = {}
        self.own_indicators: set[presence.Indicator] = set()
        self.checked_tickets: set[int] = set()
        self.command_times: list[float] = []
        self.last_presence: list[dict[str, str]] | None = None
        # Revocation reaches us on the user's group from the moment we are open.
        await self.channel_layer.group_add(user_group(user.pk), self.channel_name)

    async def disconnect(self, code: int) -> None:
        await self._leave()

    # --- client -> server ---------------------------------------------------------------------

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if self.closing or not isinstance(content, dict):
            return
        kind = content.get("type")
        if kind == "ping":
            await self.send_json({"type": "pong"})
        elif kind == "hello":
            await self._hello(content.get("last_seq"))
        elif kind in presence.INDICATOR_KINDS:
            await self._indicator_command(kind, content)
        else:
            await self._error("validation_error", f"Unknown message type {kind!r}.")

    async def _hello(self, last_seq: Any) -> None:
        """Subscribe first, then replay what the client missed (or ask it to resync), then live."""
        # Subscribing before reading the table means an event committed meanwhile reaches us
        # live as well as in the replay; `last_sent` drops the second copy.
        await self.channel_layer.group_add(self.board_group, self.channel_name)
        current, allowed = await boardwatch.board_state(self.project_id, [self.user_id])
        if self.user_id not in allowed:
            await self._shut(CLOSE_FORBIDDEN)
            return
        # The answer first: the committed seq the replay runs up to, and the server's clock
        # (clients correct their SLA countdowns by it).
        await self.send_json({"type": "hello", "seq": current, "server_now": utc_now_iso()})
        usable = isinstance(last_seq, int) and not isinstance(last_seq, bool)
        if not usable or not 0 <= last_seq <= current or current - last_seq > REPLAY_MAX_EVENTS:
            # Unknown, from another log, or too far behind: reloading the board is cheaper.
            await self._resync(current)
        else:
            self.last_sent = last_seq
            await self._send_through(current)
        if self.closing:
            return
        if self.watch is None:
            self.watch = boardwatch.join_watch(self.project_id, self.user_id)
        await self._join_presence()
        for indicator, remaining in await presence.active_indicators(self.project_id):
            if indicator not in self.own_indicators:
                await self._forward_indicator(indicator, active=True, ttl=remaining)
        if self.heartbeat_task is None:
            self.heartbeat_task = asyncio.create_task(self._heartbeats())

    async def _indicator_command(self, kind: str, content: dict[str, Any]) -> None:
        if self.last_sent is None:
            await self._error("hello_required", "Say hello before sending board commands.")
            return
        now = time.monotonic()
        self.command_times = [t for t in self.command_times if now - t < 1.0]
        if len(self.command_times) >= COMMANDS_PER_SECOND:
            await self._error("rate_limited", "Too many board commands; slow down.")
            return
        self.command_times.append(now)
        ticket_id, active = content.get("ticket_id"), content.get("active")
        if not isinstance(ticket_id, int) or isinstance(ticket_id, bool) or ticket_id <= 0:
            await self._error("validation_error", "ticket_id must be a ticket id.")
            return
        if not isinstance(active, bool):
            await self._error("validation_error", "active must be true or false.")
            return
        if ticket_id not in self.checked_tickets:
            if not await boardwatch.is_board_ticket(self.project_id, ticket_id):
                await self._error("not_found", "No such ticket on this board.")
                return
            self.checked_tickets.add(ticket_id)
        indicator = presence.Indicator(kind=kind, ticket_id=ticket_id, user=self.username)
        await self._broadcast_indicator(indicator, active=active)

    async def _broadcast_indicator(self, indicator: presence.Indicator, *, active: bool) -> None:
        ttl = presence.indicator_ttl_seconds()
        if active:
            self.own_indicators.add(indicator)
        else:
            self.own_indicators.discard(indicator)
        await presence.set_indicator(self.project_id, indicator, active=active, ttl=ttl)
        await self.channel_layer.group_send(
            self.board_group,
            {
                "type": "board.indicator",
                "kind": indicator.kind,
                "ticket_id": indicator.ticket_id,
                "user": indicator.user,
                "active": active,
                "ttl": ttl,
                "origin": self.channel_name,
            },
        )

    # --- server -> client -----------------------------------------------------------------------

    async def board_event(self, message: dict[str, Any]) -> None:
        """A committed event pushed by a writer: deliver it once, in order, with no gap."""
        if self.closing or self.last_sent is None:
            return
        event = message["event"]
        seq = int(event["seq"])
        if seq <= self.last_sent:
            return  # already replayed, or filled in from the table
        # Pushes from different writers can arrive out of order or not at all; the rows before
        # `seq` are committed (commit order is seq order), so read them.
        if seq > self.last_sent + 1 and not await self._send_through(seq - 1):
            return
        # The writer encoded the JSON once for every socket.
        text = message.get("text")
        if isinstance(text, str):
            await self.send(text_data=text)
        else:
            await self.send_json(event)
        self.last_sent = seq

    async def board_events(self, message: dict[str, Any]) -> None:
        """Several committed events of one batch, in seq order, in one channel-layer message."""
        for event, text in zip(message["events"], message["texts"], strict=True):
            await self.board_event({"event": event, "text": text})

    async def board_presence(self, message: dict[str, Any]) -> None:
        if not self.closing and self.last_sent is not None:
            await self._send_presence(message["users"])

    async def board_indicator(self, message: dict[str, Any]) -> None:
        if self.closing or self.last_sent is None or message.get("origin") == self.channel_name:
            return
        indicator = presence.Indicator(
            kind=message["kind"], ticket_id=message["ticket_id"], user=message["user"]
        )
        await self._forward_indicator(indicator, active=message["active"], ttl=message["ttl"])

    async def access_revoked(self, message: dict[str, Any]) -> None:
        """Membership removed (this project) or account deactivated (None): close, send nothing more."""
        if message.get("project_id") in (None, self.project_id):
            await self._shut(CLOSE_FORBIDDEN)

    # --- pieces ---------------------------------------------------------------------------------

    async def _send_through(self, upto: int) -> bool:
        """Send the table's events after `last_sent` up to `upto`; False when the client must resync."""
        assert self.last_sent is not None
        while self.last_sent < upto and not self.closing:
            batch_end = min(upto, self.last_sent + 500)
            try:
                events = await boardwatch.events_between(self.project_id, self.last_sent, batch_end)
            except ResyncRequired:
                current, _ = await boardwatch.board_state(self.project_id, [])
                await self._resync(current)
                return False
            for event in events:
                await self.send_json(event)
            self.last_sent = batch_end
        return not self.closing

    async def _resync(self, current: int) -> None:
        """Tell the client to reload the board; live events after `current` keep coming."""
        await self.send_json({"type": "resync_required", "seq": current})
        self.last_sent = current

    async def _forward_indicator(
        self, indicator: presence.Indicator, *, active: bool, ttl: float
    ) -> None:
        key = (indicator.kind, indicator.ticket_id, indicator.user)
        timer = self.indicator_timers.pop(key, None)
        if timer is not None:
            timer.cancel()
        if active:
            # Expire on our own: a client that crashed mid-edit never says `active: false`.
            self.indicator_timers[key] = asyncio.get_running_loop().call_later(
                ttl, lambda: asyncio.ensure_future(self._expire_indicator(indicator))
            )
        await self.send_json(indicator.message(active=active))

    async def _expire_indicator(self, indicator: presence.Indicator) -> None:
        self.indicator_timers.pop((indicator.kind, indicator.ticket_id, indicator.user), None)
        if not self.closing:
            await self.send_json(indicator.message(active=False))

    async def _join_presence(self) -> None:
        self.viewer = presence.Viewer(
            socket=self.channel_name,
            user_id=self.user_id,
            username=self.username,
            full_name=getattr(self.scope["user"], "full_name", "") or "",
        )
        changed = await presence.touch_presence(
            self.project_id, self.viewer, ttl=presence.presence_ttl_seconds()
        )
        if changed is not None:
            await self._broadcast_presence(changed)
        await self._send_presence(changed or await presence.current_users(self.project_id))

    async def _broadcast_presence(self, users: list[dict[str, str]]) -> None:
        await self.channel_layer.group_send(
            self.board_group, {"type": "board.presence", "users": users}
        )

    async def _send_presence(self, users: list[dict[str, str]]) -> None:
        if users != self.last_presence:
            self.last_presence = users
            await self.send_json({"type": "presence", "users": users})

    async def _heartbeats(self) -> None:
        """Every interval: re-check access, refresh presence and subscriptions, send the seq."""
        interval = presence.heartbeat_seconds()
        # Spread a server's sockets over the interval instead of waking them all at once.
        await asyncio.sleep(interval * random.uniform(0.5, 1.0))
        while not self.closing:
            try:
                await self._beat(interval)
            except asyncio.CancelledError:
                raise
            except Exception:
                # Redis or the database blinked; the next beat tries again.
                logger.warning("board_heartbeat_failed", project_id=self.project_id, exc_info=True)
            await asyncio.sleep(interval)

    async def _beat(self, interval: float) -> None:
        assert self.watch is not None and self.viewer is not None
        current, allowed = await self.watch.state(self.user_id, max_age=interval / 2)
        if not allowed:
            # A revocation push can be lost with Redis; the membership row cannot.
            await self._shut(CLOSE_FORBIDDEN)
            return
        # Idempotent; restores subscriptions a channel layer lost (group keys flushed with Redis).
        await self.channel_layer.group_add(self.board_group, self.channel_name)
        await self.channel_layer.group_add(user_group(self.user_id), self.channel_name)
        changed = await presence.touch_presence(
            self.project_id, self.viewer, ttl=presence.presence_ttl_seconds()
        )
        if changed is not None:
            await self._broadcast_presence(changed)
        if not self.closing:
            await self.send_json({"type": "heartbeat", "seq": current})

    async def _error(self, code: str, message: str) -> None:
        await self.send_json({"type": "error", "code": code, "message": message})

    async def _shut(self, code: int) -> None:
        """Stop sending at once, tidy up, and close with `code`."""
        if self.closing:
            return
        self.closing = True
        await self._leave()
        await self.close(code=code)

    async def _leave(self) -> None:
        """Forget this socket: heartbeats, timers, groups, presence and its indicators."""
        self.closing = True
        task, self.heartbeat_task = self.heartbeat_task, None
        if task is not None and task is not asyncio.current_task():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        for timer in getattr(self, "indicator_timers", {}).values():
            timer.cancel()
        if not hasattr(self, "project_id"):
            return
        if self.watch is not None:
            self.watch = None
            boardwatch.leave_watch(self.project_id, self.user_id)
        await self.channel_layer.group_discard(self.board_group, self.channel_name)
        await self.channel_layer.group_discard(user_group(self.user_id), self.channel_name)
        try:
            for indicator in list(self.own_indicators):
                await self._broadcast_indicator(indicator, active=False)
            if self.viewer is not None:
                viewer, self.viewer = self.viewer, None
                changed = await presence.leave_presence(self.project_id, viewer)
                if changed is not None:
                    await self._broadcast_presence(changed)
        except Exception:
            # Redis is down: the TTLs clean up after us.
            logger.warning("board_leave_failed", project_id=self.project_id, exc_info=True)
