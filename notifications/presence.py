"""Who is on a board, and who is editing or moving which ticket: ephemeral, TTL'd, never logged.

Redis holds sorted sets scored by expiry time (ms since the epoch), so an entry whose socket died
without a goodbye (a killed server, a lost network) simply ages out:

- `board:people:<project_id>`: one member per person, `<user_id>|<username>|<full name>`, scored
  with the latest expiry of any of their sockets. This is the presence list.
- `board:sockets:<project_id>:<user_id>`: that person's sockets (channel names), so a goodbye
  knows whether it was their last tab.
- `board:indicators:<project_id>`: one member per (kind, ticket, user),
  `<kind>|<ticket_id>|<username>`, refreshed by the client re-sending `editing`/`moving`.

A heartbeat's refresh is O(log n) and reports whether the list of *people* changed (someone new,
someone expired), so the list is read and broadcast only then: a second tab, a refresh, or every
socket re-adding itself after Redis lost its data costs at most one broadcast per person. The keys
expire too, so a board nobody views leaves nothing behind.
"""

from __future__ import annotations

import asyncio
import os
import time
import weakref
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from redis import asyncio as aioredis

INDICATOR_KINDS = ("editing", "moving", "viewing")


def realtime_seconds(name: str, default: float) -> float:
    """A real-time timing: the setting when declared, else the environment, else the default."""
    value = getattr(settings, name, None)
    if value is None:
        value = os.environ.get(name) or None
    return float(value) if value is not None else default


def heartbeat_seconds() -> float:
    """How often a board socket gets a heartbeat (and refreshes its presence)."""
    return realtime_seconds("BOARD_HEARTBEAT_SECONDS", 20.0)


def presence_ttl_seconds() -> float:
    """How long a socket stays present without a heartbeat (three missed beats by default)."""
    return realtime_seconds("BOARD_PRESENCE_TTL_SECONDS", 3 * heartbeat_seconds())


def indicator_ttl_seconds() -> float:
    """How long an `editing`/`moving` indicator lives unless the client repeats it."""
    return realtime_seconds("BOARD_INDICATOR_TTL_SECONDS", 15.0)


# --- pure shapes ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Viewer:
    """One socket of one person on a board."""

    socket: str
    user_id: int
    username: str
    full_name: str

    def person(self) -> str:
        """The people-set member (usernames hold no `|`; a full name may, so it goes last)."""
        return f"{self.user_id}|{self.username}|{self.full_name}"


def parse_person(member: str | bytes) -> dict[str, str] | None:
    """The public shape of a people-set member (None when malformed)."""
    text = member.decode() if isinstance(member, bytes) else member
    parts = text.split("|", 2)
    if len(parts) != 3 or not parts[0].isdigit():
        return None
    return {"username": parts[1], "full_name": parts[2]}


def users_of(members: list[Any]) -> list[dict[str, str]]:
    """The presence list: people by username, each once."""
    people: dict[str, dict[str, str]] = {}
    for member in members:
        person = parse_person(member)
        if person is not None:
            people.setdefault(person["username"], person)
    return [people[name] for name in sorted(people)]


@dataclass(frozen=True)
class Indicator:
    kind: str
    ticket_id: int
    user: str

    def member(self) -> str:
        """The sorted-set member of this indicator."""
        return f"{self.kind}|{self.ticket_id}|{self.user}"

    def message(self, *, active: bool) -> dict[str, Any]:
        """The wire shape sent to clients."""
        return {"type": self.kind, "ticket_id": self.ticket_id, "user": self.user, "active": active}


def parse_indicator(member: str | bytes) -> Indicator | None:
    """The indicator a member stands for (None for a malformed member)."""
    text = member.decode() if isinstance(member, bytes) else member
    parts = text.split("|", 2)
    if len(parts) != 3 or parts[0] not in INDICATOR_KINDS or not parts[1].isdigit():
        return None
    return Indicator(kind=parts[0], ticket_id=int(parts[1]), user=parts[2])


def people_key(project_id: int) -> str:
    return f"board:people:{project_id}"


def sockets_key(project_id: int, user_id: int) -> str:
    return f"board:sockets:{project_id}:{user_id}"


def indicators_key(project_id: int) -> str:
    return f"board:indicators:{project_id}"


def now_ms() -> int:
    return int(time.time() * 1000)


# --- Redis ------------------------------------------------------------------------------------------

# Atomic, so a goodbye racing another tab's heartbeat cannot drop a person who is still here.
# KEYS: sockets, people. ARGV: socket, person, expiry ms, ttl ms, now ms. Returns people added +
# people expired (non-zero: the list changed).
_TOUCH = """
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
local changed = redis.call('ZADD', KEYS[2], 'GT', ARGV[3], ARGV[2])
redis.call('PEXPIRE', KEYS[2], ARGV[4])
return changed + redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[5])
"""
# KEYS: sockets, people. ARGV: socket, person, now ms. Returns people removed (non-zero: changed).
_LEAVE = """
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[3])
local changed = redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[3])
if redis.call('ZCARD', KEYS[1]) == 0 then
  changed = changed + redis.call('ZREM', KEYS[2], ARGV[2])
end
return changed
"""


class _Store:
    def __init__(self) -> None:
        # Waits for a free connection rather than failing when a thousand sockets beat at once.
        pool = aioredis.BlockingConnectionPool.from_url(
            settings.REDIS_URL,
            max_connections=50,
            timeout=10,
            socket_connect_timeout=2,
            socket_timeout=5,
        )
        self.redis = aioredis.Redis(connection_pool=pool)
        self.touch = self.redis.register_script(_TOUCH)
        self.leave = self.redis.register_script(_LEAVE)


_stores: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Store] = weakref.WeakKeyDictionary()


def _store() -> _Store:
    """One client per event loop (a client's connections belong to the loop that made them)."""
    loop = asyncio.get_running_loop()
    store = _stores.get(loop)
    if store is None:
        store = _stores[loop] = _Store()
    return store


async def current_users(project_id: int) -> list[dict[str, str]]:
    """The people viewing the board now."""
    members = await _store().redis.zrangebyscore(people_key(project_id), now_ms(), "+inf")
    return users_of(members)


async def touch_presence(
    project_id: int, viewer: Viewer, *, ttl: float
) -> list[dict[str, str]] | None:
    """Add or refresh a socket (and its person); the new list when the people changed, else None."""
    store, now = _store(), now_ms()
    ttl_ms = int(ttl * 1000)
    changed = await store.touch(
        keys=[sockets_key(project_id, viewer.user_id), people_key(project_id)],
        args=[viewer.socket, viewer.person(), now + ttl_ms, ttl_ms, now],
    )
    return await current_users(project_id) if changed else None


async def leave_presence(project_id: int, viewer: Viewer) -> list[dict[str, str]] | None:
    """Remove a socket (a goodbye); the new list when that was the person's last tab, else None."""
    changed = await _store().leave(
        keys=[sockets_key(project_id, viewer.user_id), people_key(project_id)],
        args=[viewer.socket, viewer.person(), now_ms()],
    )
    return await current_users(project_id) if changed else None


async def set_indicator(project_id: int, indicator: Indicator, *, active: bool, ttl: float) -> None:
    """Record (or clear) an indicator so a socket that joins later sees it."""
    key = indicators_key(project_id)
    async with _store().redis.pipeline(transaction=True) as pipe:
        if active:
            pipe.zadd(key, {indicator.member(): now_ms() + int(ttl * 1000)})
            pipe.pexpire(key, int(ttl * 1000))
        else:
            pipe.zrem(key, indicator.member())
        await pipe.execute()


async def active_indicators(project_id: int) -> list[tuple[Indicator, float]]:
    """The live indicators of a board with the seconds each has left."""
    key, now = indicators_key(project_id), now_ms()
    async with _store().redis.pipeline(transaction=True) as pipe:
        pipe.zremrangebyscore(key, "-inf", now)
        pipe.zrange(key, 0, -1, withscores=True)
        _, rows = await pipe.execute()
    out = []
    for member, expires in rows:
        indicator = parse_indicator(member)
        if indicator is not None:
            out.append((indicator, max(0.0, (expires - now) / 1000)))
    return out
