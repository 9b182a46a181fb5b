"""Ranks in the database: concurrent moves, online rebalancing, import, the commands."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection, connections

from config.api import DomainError
from notifications.models import BoardEvent
from tests_support.factories import make_project, make_ticket, make_user
from tickets import ranking
from tickets.models import Project, Ticket
from tickets.services.moves import move_ticket
from tickets.services.ranks import import_ranks, rebalance_project


def column_order(project: Project) -> list[int]:
    return list(
        Ticket.objects.filter(project=project, is_archived=False)
        .order_by("rank", "id")
        .values_list("id", flat=True)
    )


def run_threads(n: int, work: Callable[[int], None]) -> list[BaseException]:
    errors: list[BaseException] = []

    def wrapped(i: int) -> None:
        try:
            work(i)
        except BaseException as exc:  # reported to the test
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=wrapped, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


def replay_moves_are_ordered(project: Project) -> int:
    """Replay the board log in seq (commit) order: ranks stay unique at every commit point and the
    replayed ranks end equal to the database's. Returns the number of moves replayed."""
    ranks: dict[int, str] = {}
    checked = 0
    for event in BoardEvent.objects.filter(project=project).order_by("seq"):
        data = event.data
        if event.type == "ticket.created":
            ranks[data["id"]] = data["rank"]
        elif event.type == "ticket.moved":
            ranks[data["id"]] = data["rank"]
            values = sorted(ranks.values())
            assert len(values) == len(set(values)), "duplicate rank in the log"
            checked += 1
    assert ranks == dict(Ticket.objects.filter(project=project).values_list("id", "rank"))
    return checked


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("with_rebalance", [False, True], ids=["moves", "moves+rebalance"])
@pytest.mark.timeout(900)  # 2,000 moves on 8 connections: minutes on a shared 2-core machine
def test_parallel_moves_never_duplicate_or_misorder(with_rebalance):
    project = make_project("RACE")
    agent = make_user("racer", project=project, role="agent")
    tickets = [make_ticket(project, agent, title=f"t{i}").pk for i in range(40)]
    moves_per_thread, threads = 250, 8  # 2,000 moves
    outcomes: dict[str, int] = {"ok": 0, "stale_position": 0, "other": 0}
    lock = threading.Lock()

    def mover(i: int) -> None:
        rng = random.Random(i)
        for _ in range(moves_per_thread):
            order = column_order(project)
            moved = rng.choice(order)
            rest = [t for t in order if t != moved]
            at = rng.randrange(len(rest) + 1)
            before = rest[at - 1] if at > 0 else None
            after = rest[at] if at < len(rest) else None
            try:
                move_ticket(actor=agent, ticket_id=moved, before_id=before, after_id=after)
                key = "ok"
            except DomainError as exc:
                key = exc.code if exc.code == "stale_position" else "other"
            with lock:
                outcomes[key] += 1

    def rebalancer(_: int) -> None:
        for _ in range(3):
            rebalance_project(project.pk, batch_size=7)

    work = (lambda i: rebalancer(i) if i == threads else mover(i)) if with_rebalance else mover
    errors = run_threads(threads + (1 if with_rebalance else 0), work)
    assert errors == []
    assert outcomes["other"] == 0
    assert outcomes["ok"] + outcomes["stale_position"] == threads * moves_per_thread
    assert outcomes["ok"] > threads * moves_per_thread // 2
    ranks = list(Ticket.objects.filter(project=project).values_list("rank", flat=True))
    assert len(ranks) == len(set(ranks)) == 40
    assert sorted(column_order(project)) == sorted(tickets)
    if (
        not with_rebalance
    ):  # batches rewrite ranks without per-ticket events, so replay only without them
        assert replay_moves_are_ordered(project) == outcomes["ok"]
    else:
        assert BoardEvent.objects.filter(project=project, type="board.reranked").count() == 3
    for rank in ranks:
        ranking.parse_rank(rank)


@pytest.mark.django_db
def test_rebalance_rotates_buckets_and_keeps_order():
    project = make_project("REB")
    agent = make_user("a", project=project, role="agent")
    tickets = [make_ticket(project, agent, title=str(i)).pk for i in range(25)]
    # Hammer one gap so keys grow long.
    for _ in range(60):
        order = column_order(project)
        move_ticket(actor=agent, ticket_id=order[-1], before_id=order[0], after_id=order[1])
    before = column_order(project)
    longest = max(ranking.key_length(r) for r in Ticket.objects.values_list("rank", flat=True))
    assert longest > 10
    for expected_bucket in (1, 2, 0):
        assert rebalance_project(project.pk, batch_size=4) == 25
        project.refresh_from_db()
        assert project.rank_bucket == expected_bucket
        ranks = list(Ticket.objects.values_list("rank", flat=True))
        assert {r.split("|")[0] for r in ranks} == {str(expected_bucket)}
        assert max(ranking.key_length(r) for r in ranks) <= 2
        assert column_order(project) == before
    assert sorted(before) == sorted(tickets)
    assert BoardEvent.objects.filter(project=project, type="board.reranked").count() == 3


@pytest.mark.django_db
def test_a_long_key_queues_a_rebalance_once(desk):
    from config.redis import get_redis

    project, agent = desk["project"], desk["agent"]
    make_ticket(project, agent, title="a"), make_ticket(project, agent, title="b")
    mover = make_ticket(project, agent, title="m")
    for _ in range(200):
        order = column_order(project)
        if ranking.needs_rebalance(Ticket.objects.get(pk=mover.pk).rank):
            break
        other = [t for t in order if t != mover.pk]
        move_ticket(actor=agent, ticket_id=mover.pk, before_id=other[0], after_id=other[1])
        move_ticket(actor=agent, ticket_id=other[1], before_id=other[0], after_id=mover.pk)
    assert get_redis().get(f"rebalance-queued:{project.pk}") == b"1"


@pytest.mark.django_db
def test_past_the_hard_limit_a_move_rebalances_first(desk):
    project, agent = desk["project"], desk["agent"]
    first, second = make_ticket(project, agent, title="1"), make_ticket(project, agent, title="2")
    third = make_ticket(project, agent, title="3")
    long_key = "a0" + "V" * 60
    Ticket.objects.filter(pk=second.pk).update(rank="0|" + long_key)
    Ticket.objects.filter(pk=third.pk).update(rank="0|" + long_key + "V")
    moved = move_ticket(actor=agent, ticket_id=first.pk, before_id=second.pk, after_id=third.pk)
    assert ranking.key_length(moved.rank) <= 4
    assert column_order(project) == [second.pk, first.pk, third.pk]
    project.refresh_from_db()
    assert project.rank_bucket == 1


@pytest.mark.django_db
def test_import_ranks_from_integer_positions(desk, tmp_path):
    project, agent = desk["project"], desk["agent"]
    t = [make_ticket(project, agent, title=str(i)) for i in range(4)]
    assert import_ranks(project.pk, {t[2].pk: 1, t[0].pk: 2, t[3].pk: 3}) == 4
    assert column_order(project) == [t[2].pk, t[0].pk, t[3].pk, t[1].pk]
    csv_file = tmp_path / "positions.csv"
    csv_file.write_text(
        f"ticket,position\nDESK-{t[1].number},5\n{t[3].pk},1\nDESK-{t[0].number},9\n"
    )
    out = StringIO()
    call_command("import_ranks", "--project", "DESK", "--csv", str(csv_file), stdout=out)
    assert out.getvalue().strip() == "DESK: 4 tickets ranked (3 had a position)"
    assert column_order(project) == [t[3].pk, t[1].pk, t[0].pk, t[2].pk]
    bad = tmp_path / "bad.csv"
    bad.write_text("ticket,position\nDESK-999,1\n")
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="line 2: unknown ticket"):
        call_command("import_ranks", "--project", "DESK", "--csv", str(bad))


@pytest.mark.django_db
def test_rebalance_command_and_task(desk):
    from tickets.tasks import rebalance_project_task

    make_ticket(desk["project"], desk["agent"])
    out = StringIO()
    call_command("rebalance_ranks", "--project", "DESK", stdout=out)
    assert out.getvalue().strip() == "DESK: 1 tickets rebalanced"
    assert rebalance_project_task.run(desk["project"].pk) == 1
    desk["project"].refresh_from_db()
    assert desk["project"].rank_bucket == 2
    assert connection.vendor == "postgresql"


def test_a_retried_move_takes_a_random_rank_of_the_gap():
    """Concurrent moves to the bottom of one column read the same gap; the unique constraint lets
    one win and the others retry: on a retry the rank is one of 8 of the gap, not its midpoint."""
    from tickets.services.ranks import rank_for_gap

    gaps = [("0|a0", "0|a1"), ("0|a0", None), (None, "0|a0"), (None, None), ("0|a0", "1|a0")]
    for lo, hi in gaps:
        midpoint = rank_for_gap(lo, hi, bucket=0)
        spread = {rank_for_gap(lo, hi, bucket=0, spread=8) for _ in range(200)}
        assert midpoint in spread and len(spread) == 8, (lo, hi, spread)
        for rank in spread:
            assert ranking.parse_rank(rank)[0] == 0
            assert (lo is None or lo < rank) and (hi is None or rank < hi), (lo, hi, rank)


@pytest.mark.django_db(transaction=True)
def test_a_ticket_locked_while_its_status_changes_is_found_not_404():
    """get_visible_ticket(for_update=True) waits for a concurrent status change; PostgreSQL then
    rechecks the new row against the old status row it joined and drops it. Found, not a 404."""
    from django.db import transaction

    from tickets.models import Status
    from tickets.selectors import get_visible_ticket

    project = make_project("RACE")
    agent = make_user("race-agent", project=project)
    ticket = make_ticket(project, agent)
    other = Status.objects.exclude(pk=ticket.status_id).first()
    assert other is not None
    locked, found = threading.Event(), []

    def change_status(i: int) -> None:
        if i == 0:
            with transaction.atomic():
                Ticket.objects.filter(pk=ticket.pk).update(status=other)
                locked.set()
                threading.Event().wait(0.5)  # the reader is now waiting for the row lock
        else:
            assert locked.wait(10)
            with transaction.atomic():
                found.append(get_visible_ticket(agent, ticket.pk, for_update=True))

    assert run_threads(2, change_status) == []
    assert [t.status_id for t in found] == [other.pk]
