"""Where a ticket goes in its project's single rank space, and the online rebalance.

One rank space per project: a column showing two statuses is still one order, and a rank is always
chosen between the two *project-wide* neighbours, so it can never collide with a ticket of another
column that happens to sit in the same gap.
"""

from __future__ import annotations

import random
from collections.abc import Callable

import structlog
from django.db import connection, transaction

from config.rawsql import fetch_one
from tickets import ranking, sql
from tickets.models import Project, Ticket

logger = structlog.get_logger(__name__)


def rank_for_gap(lo: str | None, hi: str | None, *, bucket: int, spread: int = 1) -> str:
    """A rank strictly between two project-wide neighbours, which may sit in different buckets.

    During a rebalance the rank space holds two buckets; "0|..." sorts before "1|...", so a gap that
    straddles the boundary is filled at the end of the lower bucket (or the start of the upper).
    With `spread` > 1 the rank is one of `spread` evenly spaced ranks of the gap, at random: writers
    that read the same gap at once (a retry after the unique constraint refused a move) then
    rarely choose the same rank again; the default is the gap's midpoint, the shortest key.
    """
    lo_key: str | None
    hi_key: str | None
    if lo is not None and hi is not None:
        lo_bucket, lo_key = ranking.parse_rank(lo)
        hi_bucket, hi_key = ranking.parse_rank(hi)
        if lo_bucket != hi_bucket:
            hi_key = None
    else:
        lo_key = ranking.parse_rank(lo)[1] if lo is not None else None
        hi_key = ranking.parse_rank(hi)[1] if hi is not None else None
        neighbour = lo if lo is not None else hi
        lo_bucket = ranking.parse_rank(neighbour)[0] if neighbour is not None else bucket
    if spread <= 1:
        return ranking.make_rank(lo_bucket, ranking.generate_key_between(lo_key, hi_key))
    keys = ranking.generate_n_keys_between(lo_key, hi_key, spread)
    return ranking.make_rank(lo_bucket, random.choice(keys))


# Neighbour reads run on every move and create (why SQL: tickets/sql.py). `rank` has the C
# collation, so these comparisons and orders are the unique index's own.


def _args(project_id: int, exclude_id: int | None, **more: object) -> dict[str, object]:
    # Ticket ids start at 1, so 0 excludes nothing.
    return {"project": project_id, "exclude": exclude_id or 0, **more}


def rank_after(project_id: int, rank: str, exclude_id: int) -> str | None:
    """The project's next rank after `rank` (the ticket `exclude_id` aside)."""
    row = fetch_one(sql.RANK_AFTER, _args(project_id, exclude_id, rank=rank))
    return row[0] if row else None


def rank_before(project_id: int, rank: str, exclude_id: int) -> str | None:
    """The project's rank just before `rank` (the ticket `exclude_id` aside)."""
    row = fetch_one(sql.RANK_BEFORE, _args(project_id, exclude_id, rank=rank))
    return row[0] if row else None


def next_in_column(
    project_id: int, rank: str, exclude_id: int, status_ids: list[int]
) -> tuple[int | None, str | None]:
    """The id of the column's next ticket after `rank`, and the project's next rank after it."""
    params = _args(project_id, exclude_id, rank=rank, statuses=list(status_ids))
    row = fetch_one(sql.NEXT_IN_COLUMN, params)
    return (row[0], row[1]) if row else (None, None)


def bottom_of(
    project: Project | int, status_ids: list[int], *, exclude_id: int | None
) -> tuple[str | None, str | None]:
    """The gap at the bottom of a column: after its last ticket, before the project's next rank
    (an empty column goes after the project's last rank)."""
    project_id = project if isinstance(project, int) else project.pk
    row = fetch_one(sql.BOTTOM, _args(project_id, exclude_id, statuses=list(status_ids)))
    assert row is not None  # one branch of the UNION always answers
    return row[0], row[1]


# Advisory-lock namespace for a project's rank space (the second key is the project id).
RANK_SPACE_LOCK = 7101


def hold_rank_space(project_id: int, *, exclusive: bool = False) -> None:
    """Lock the project's rank space until the transaction ends.

    Every writer of a rank takes it shared (moves run in parallel); a rebalance batch takes it
    exclusive for its few milliseconds, so a batch always sees a contiguous stretch of the order
    and no move chooses a gap from ranks the batch is rewriting. Taken before any row lock, so it
    cannot take part in a deadlock.
    """
    statement = sql.RANK_SPACE_EXCLUSIVE if exclusive else sql.RANK_SPACE_SHARED
    with connection.cursor() as cursor:
        cursor.execute(statement, [RANK_SPACE_LOCK, project_id])


# --- rebalance ----------------------------------------------------------------------------------

REBALANCE_BATCH = 500


def rebalance_project(
    project_id: int,
    *,
    batch_size: int = REBALANCE_BATCH,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Rewrite every rank of a project into the next bucket with short keys, online, in batches.

    Moving 0->1 (or 1->2) the upper bucket sorts after the lower one, so tickets move from the
    bottom of the order up: each batch takes the last tickets still in the old bucket and gives them
    keys just before the new bucket's first key. For 2->0 it runs from the top down. At every
    commit the whole order is intact, so moves go on meanwhile (they lock the same rows). Callers
    hold the project's rebalance lock. Returns the number of tickets rewritten.
    """
    project = Project.objects.get(pk=project_id)
    old_bucket = project.rank_bucket
    new_bucket = ranking.next_bucket(old_bucket)
    prefix = f"{new_bucket}|"
    upward = new_bucket < old_bucket
    total = Ticket.objects.filter(project_id=project_id).exclude(rank__startswith=prefix).count()
    done = 0
    while True:
        with transaction.atomic():
            hold_rank_space(project_id, exclusive=True)
            pending = (
                Ticket.objects.filter(project_id=project_id)
                .exclude(rank__startswith=prefix)
                .order_by("rank" if upward else "-rank")
                .select_for_update()
            )
            batch = list(pending.values_list("id", "rank")[:batch_size])
            if not batch:
                break
            in_new = Ticket.objects.filter(project_id=project_id, rank__startswith=prefix)
            if upward:
                edge = in_new.order_by("-rank").values_list("rank", flat=True).first()
                start = ranking.parse_rank(edge)[1] if edge else None
                keys = ranking.generate_n_keys_between(start, None, len(batch))
                assigned = list(zip([i for i, _ in batch], keys, strict=True))
            else:
                edge = in_new.order_by("rank").values_list("rank", flat=True).first()
                end = ranking.parse_rank(edge)[1] if edge else None
                keys = ranking.generate_n_keys_between(None, end, len(batch))
                # batch runs from the bottom up; keys run upwards: pair the last ticket with the last key.
                assigned = list(zip([i for i, _ in reversed(batch)], keys, strict=True))
            _write_ranks(
                project_id, [(tid, ranking.make_rank(new_bucket, key)) for tid, key in assigned]
            )
        done += len(batch)
        if progress is not None:
            progress(done, total)
    with transaction.atomic():
        Project.objects.filter(pk=project_id).update(rank_bucket=new_bucket)
        from notifications.services import record_board_event

        record_board_event(
            actor=None,
            project_id=project_id,
            type="board.reranked",
            data={"bucket": new_bucket, "tickets": done},
        )
    logger.info("ranks_rebalanced", project_id=project_id, tickets=done, bucket=new_bucket)
    return done


def _write_ranks(project_id: int, pairs: list[tuple[int, str]]) -> None:
    if not pairs:
        return
    params: list[int | str] = [x for pair in pairs for x in pair]
    with connection.cursor() as cursor:
        cursor.execute(sql.write_ranks(len(pairs)), [*params, project_id])


def import_ranks(project_id: int, positions: dict[int, int]) -> int:
    """Rank a project's tickets by integer positions (ties and unpositioned ones keep their order).

    All ranks are rewritten into the next bucket in one transaction, so the unique constraint never
    sees two tickets with one rank; the project's bucket then moves on, as after a rebalance.
    """
    with transaction.atomic():
        hold_rank_space(project_id, exclusive=True)
        project = Project.objects.select_for_update().get(pk=project_id)
        rows = list(
            Ticket.objects.filter(project_id=project_id)
            .select_for_update()
            .values_list("id", "rank")
        )
        unplaced = 1 << 62
        rows.sort(key=lambda row: (positions.get(row[0], unplaced), row[1]))
        used = {ranking.parse_rank(rank)[0] for _, rank in rows}
        # A bucket no ticket sits in (a crashed rebalance can leave two in use), so no rank collides.
        new_bucket = (
            next(b for b in ranking.BUCKETS if b not in used)
            if len(used) < 3
            else project.rank_bucket
        )
        if len(used) == 3:
            raise ValueError("Tickets occupy all three rank buckets; run rebalance_ranks first.")
        keys = ranking.generate_n_keys_between(None, None, len(rows)) if rows else []
        _write_ranks(
            project_id,
            [
                (tid, ranking.make_rank(new_bucket, key))
                for (tid, _), key in zip(rows, keys, strict=True)
            ],
        )
        Project.objects.filter(pk=project_id).update(rank_bucket=new_bucket)
        from notifications.services import record_board_event

        record_board_event(
            actor=None,
            project_id=project_id,
            type="board.reranked",
            data={"bucket": new_bucket, "tickets": len(rows)},
        )
    return len(rows)
