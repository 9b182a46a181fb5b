"""The database side of the board sockets: access checks, replay reads, and a per-process watch.

Every read runs in Django's sync thread (`database_sync_to_async` closes stale connections around
it). The watch exists because heartbeats of a thousand sockets must not be a thousand queries:
each process asks once per half heartbeat per board for the current seq and which of its
connected users may still watch, and every socket's heartbeat reads that answer.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from typing import Any

from channels.db import database_sync_to_async


@database_sync_to_async
def board_access(user: Any, key: str) -> int | None:
    """The project id when `user` may watch the board of project `key` (staff or site admin)."""
    from django.db.models import Exists, OuterRef

    from tickets.models import Membership, Project
    from tickets.selectors import STAFF_ROLES

    if not user.is_active:
        return None
    row = (
        Project.objects.filter(key=key)
        .annotate(
            staff=Exists(
                Membership.objects.filter(
                    project_id=OuterRef("pk"), user_id=user.pk, role__in=STAFF_ROLES
                )
            )
        )
        .values_list("pk", "staff")
        .first()
    )
    if row is None or not (row[1] or user.is_superuser):
        return None
    return int(row[0])


def _allowed_users(project_id: int, user_ids: list[int]) -> set[int]:
    from django.db.models import Q

    from tickets.models import User
    from tickets.selectors import STAFF_ROLES

    staff = Q(memberships__project_id=project_id, memberships__role__in=STAFF_ROLES)
    return set(
        User.objects.filter(pk__in=user_ids, is_active=True)
        .filter(Q(is_superuser=True) | staff)
        .values_list("pk", flat=True)
        .distinct()
    )


@database_sync_to_async
def board_state(project_id: int, user_ids: list[int]) -> tuple[int, set[int]]:
    """(the current seq, which of `user_ids` may still watch), read fresh."""
    from notifications.services import current_seq

    return current_seq(project_id), _allowed_users(project_id, user_ids)


@database_sync_to_async
def events_between(project_id: int, after: int, upto: int) -> list[dict[str, Any]]:
    """The table's events `after < seq <= upto` (ResyncRequired when pruned)."""
    from notifications.services import events_between

    return events_between(project_id=project_id, after=after, upto=upto)


@database_sync_to_async
def is_board_ticket(project_id: int, ticket_id: int) -> bool:
    """A ticket shown on this project's board (not archived)."""
    from tickets.models import Ticket

    return Ticket.objects.filter(pk=ticket_id, project_id=project_id, is_archived=False).exists()


class BoardWatch:
    """One process's view of one board: who is connected, the seq, and who may still watch."""

    def __init__(self, project_id: int) -> None:
        self.project_id = project_id
        self.users: Counter[int] = Counter()  # connected sockets per user
        self.seq = 0
        self.allowed: set[int] = set()
        self.checked: set[int] = set()  # the users the last read asked about
        self.read_at = float("-inf")
        self.lock = asyncio.Lock()

    async def state(self, user_id: int, *, max_age: float) -> tuple[int, bool]:
        """(the seq, may `user_id` still watch), from a read at most `max_age` seconds old."""
        async with self.lock:
            stale = time.monotonic() - self.read_at > max_age
            if stale or user_id not in self.checked:
                users = sorted(self.users.keys() | {user_id})
                self.seq, self.allowed = await board_state(self.project_id, users)
                self.checked = set(users)
                self.read_at = time.monotonic()
            return self.seq, user_id in self.allowed


_watches: dict[int, BoardWatch] = {}


def join_watch(project_id: int, user_id: int) -> BoardWatch:
    """Count a socket of `user_id` on the board."""
    watch = _watches.get(project_id)
    if watch is None:
        watch = _watches[project_id] = BoardWatch(project_id)
    watch.users[user_id] += 1
    return watch


def leave_watch(project_id: int, user_id: int) -> None:
    """Uncount a socket; a board nobody watches is forgotten."""
    watch = _watches.get(project_id)
    if watch is None:
        return
    watch.users[user_id] -= 1
    if watch.users[user_id] <= 0:
        del watch.users[user_id]
    if not watch.users:
        del _watches[project_id]
