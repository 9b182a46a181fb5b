"""Issue 3: moves. p50/p99 of PATCH /move/ through gunicorn (one worker) at 1k, 10k and 100k tickets
in one column (top, middle, bottom inserts); ticket rows written per move; the same top inserts against
integer-shift baselines (Taiga-style renumbering, and a single set-based shift) for the ratio; board load with 5 columns x 50 cards at
100k tickets; the longest key after 100k adversarial inserts with rebalancing on.

Floor in the same run: a minimal DRF view (`/api/v1/meta/`) and a locked single-row UPDATE.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import api_token, gunicorn, setup_django, summarise, time_calls, write_results

MOVES = 300


def rows_written_per_move(ticket_id: int, before_id: int, after_id: int) -> int:
    """Ticket rows the move updated, read from pg_stat_xact_user_tables inside its transaction."""
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction

    from tickets.services.moves import move_ticket

    agent = get_user_model().objects.get(username="bench-agent")
    with transaction.atomic(), connection.cursor() as cursor:

        def updated() -> int:
            cursor.execute(
                "SELECT n_tup_upd FROM pg_stat_xact_user_tables WHERE relname = 'tickets_ticket'"
            )
            return int(cursor.fetchone()[0])

        before = updated()
        move_ticket(actor=agent, ticket_id=ticket_id, before_id=before_id, after_id=after_id)
        written = updated() - before
        transaction.set_rollback(True)
    return written


def _integer_table(n: int) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_int_order")
        cursor.execute(
            "CREATE TABLE bench_int_order (id bigserial PRIMARY KEY, project_id int, position int)"
        )
        cursor.execute(
            "INSERT INTO bench_int_order (project_id, position) SELECT 1, g FROM generate_series(0, %s::int) g",
            [n - 1],
        )
        cursor.execute("CREATE INDEX ON bench_int_order (project_id, position)")
        cursor.execute("ANALYZE bench_int_order")


def integer_shift_baselines(n: int, repeats: int) -> dict[str, list[float]]:
    """Top inserts into an integer-ordered column of n rows, two ways.

    `taiga_style`: what Taiga's `update_userstories_order_in_bulk` does: read the column in order,
    renumber in Python, then one UPDATE per row whose position changed (Taiga issues them through
    the ORM, `update_in_bulk_with_ids`; plain SQL here, so the baseline is if anything flattered).
    `set_based`: the best an integer order can do, one `UPDATE ... SET position = position + 1`.
    Both write n rows per top insert; a string rank writes one.
    """
    from django.db import connection, transaction

    _integer_table(n)

    def taiga_style() -> None:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "SELECT id, position FROM bench_int_order WHERE project_id = 1 ORDER BY position FOR UPDATE"
            )
            rows = cursor.fetchall()
            order = [rows[-1][0]] + [row[0] for row in rows[:-1]]
            current = {row[0]: row[1] for row in rows}
            for position, row_id in enumerate(order):
                if current[row_id] != position:
                    cursor.execute(
                        "UPDATE bench_int_order SET position = %s WHERE id = %s", [position, row_id]
                    )

    def set_based() -> None:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "SELECT id FROM bench_int_order WHERE project_id = 1 ORDER BY position DESC LIMIT 1 FOR UPDATE"
            )
            moved = cursor.fetchone()[0]
            cursor.execute(
                "UPDATE bench_int_order SET position = position + 1 WHERE project_id = 1 AND id <> %s",
                [moved],
            )
            cursor.execute("UPDATE bench_int_order SET position = 0 WHERE id = %s", [moved])

    figures = {
        "taiga_style": time_calls(taiga_style, max(5, repeats // 3), warmup=1),
        "set_based": time_calls(set_based, repeats, warmup=2),
    }
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE bench_int_order")
    return figures


def service_top_moves(project_id: int, repeats: int) -> list[float]:
    """The same top insert through our move service (no HTTP): the last ticket to the top."""
    from collections import deque

    from django.contrib.auth import get_user_model

    from tickets.models import Ticket
    from tickets.services.moves import move_ticket

    agent = get_user_model().objects.get(username="bench-agent")
    order = deque(
        Ticket.objects.filter(project_id=project_id).order_by("rank").values_list("pk", flat=True)
    )

    def move() -> None:
        last = order.pop()
        move_ticket(actor=agent, ticket_id=last, after_id=order[0])
        order.appendleft(last)

    return time_calls(move, repeats, warmup=5)


def adversarial_key_lengths(inserts: int) -> dict[str, int]:
    """Longest key over `inserts` moves into one hot gap and at the top, with the rebalance policy:
    past the soft limit a rebalance is queued (modelled as running 50 inserts later), past the
    hard limit the move rebalances first. Pure simulation with tickets.ranking."""
    from tickets import ranking

    out = {}
    for pattern in ("same_gap", "always_top"):
        keys = [ranking.generate_key_between(None, None)]
        keys.append(ranking.generate_key_between(keys[0], None))
        longest, pending, rebalances = 0, None, 0
        for i in range(inserts):
            if pattern == "same_gap":
                key = ranking.generate_key_between(keys[0], keys[1])
                keys.insert(1, key)
            else:
                key = ranking.generate_key_between(None, keys[0])
                keys.insert(0, key)
            longest = max(longest, len(key))
            if len(key) > ranking.REBALANCE_HARD_LIMIT or (pending is not None and i >= pending):
                keys = ranking.generate_n_keys_between(None, None, len(keys))
                pending, rebalances = None, rebalances + 1
            elif len(key) > ranking.REBALANCE_SOFT_LIMIT and pending is None:
                pending = i + 50
        out[f"{pattern}_max_key_length"] = longest
        out[f"{pattern}_rebalances"] = rebalances
    return out


def http_moves(server_base: str, token: str, project: Any, where: str, n: int) -> list[float]:
    from bench.httpclient import Client
    from tickets.models import Ticket

    client = Client(server_base, token)
    samples = []
    for _ in range(n):
        ordered = Ticket.objects.filter(project=project).order_by("rank")
        if where == "top":
            moved = ordered.reverse().values_list("pk", flat=True)[0]
            body = {"after_id": ordered.values_list("pk", flat=True)[0]}
        elif where == "bottom":
            moved = ordered.values_list("pk", flat=True)[0]
            body = {}
        else:
            count = ordered.count()
            moved = ordered.values_list("pk", flat=True)[0]
            a, b = ordered.values_list("pk", flat=True)[count // 2 : count // 2 + 2]
            body = {"before_id": a, "after_id": b}
        status, data, ms = client.request("PATCH", f"/api/v1/tickets/{moved}/move/", body)
        assert status == 200, (status, data[:300])
        samples.append(ms)
    client.close()
    return samples


def board_load(server_base: str, token: str, key: str, n: int) -> list[float]:
    from bench.httpclient import Client

    client = Client(server_base, token)
    samples = []
    for _ in range(n):
        status, _, ms = client.request("GET", f"/api/v1/projects/{key}/board/?limit=50")
        assert status == 200
        samples.append(ms)
    client.close()
    return samples


def floors(server_base: str) -> dict[str, object]:
    from django.db import connection, transaction

    from bench.httpclient import Client
    from tickets.models import Ticket

    client = Client(server_base)
    for _ in range(50):
        client.request("GET", "/api/v1/meta/")
    drf = [client.request("GET", "/api/v1/meta/")[2] for _ in range(1000)]
    client.close()
    pk = Ticket.objects.values_list("pk", flat=True).first()

    def locked_update() -> None:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT id FROM tickets_ticket WHERE id = %s FOR UPDATE", [pk])
            cursor.execute("UPDATE tickets_ticket SET updated_at = now() WHERE id = %s", [pk])

    return {
        "drf_minimal_view": summarise(drf),
        "locked_single_row_update": summarise(time_calls(locked_update, 500)),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--moves", type=int, default=MOVES)
    args = parser.parse_args()
    setup_django()
    from bench.seed import copy_tickets, reset_project

    figures: dict[str, Any] = {"moves_per_case": args.moves}
    server = gunicorn(workers=1)
    try:
        token = None
        for n in [int(x) for x in args.sizes.split(",")]:
            project, _ = reset_project("BRANK")
            copy_tickets(project, n, status_keys=["open"])
            token = token or api_token("bench-agent")
            case: dict[str, Any] = {}
            for where in ("top", "middle", "bottom"):
                case[where] = summarise(http_moves(server.base, token, project, where, args.moves))
            from tickets.models import Ticket

            ordered = list(
                Ticket.objects.filter(project=project)
                .order_by("rank")
                .values_list("pk", flat=True)[:3]
            )
            case["ticket_rows_written_per_move"] = rows_written_per_move(
                ordered[2], ordered[0], ordered[1]
            )
            if n == 10_000:
                ours = service_top_moves(project.pk, 200)
                baselines = integer_shift_baselines(n, 30)
                case["service_top_insert"] = summarise(ours)
                for name, samples in baselines.items():
                    case[f"integer_shift_{name}_top_insert"] = summarise(samples)
                    case[f"speedup_vs_integer_shift_{name}_p50"] = round(
                        statistics.median(samples) / statistics.median(ours), 1
                    )
            figures[f"n{n}"] = case
        figures["floors"] = floors(server.base)
        sizes = [int(x) for x in args.sizes.split(",")]
        big, small = f"n{max(sizes)}", f"n{min(sizes)}"
        figures["p50_top_largest_over_smallest"] = round(
            figures[big]["top"]["p50_ms"] / figures[small]["top"]["p50_ms"],
            3,
        )
        # Board: 5 columns x 50 cards out of the largest project, tickets spread over the columns.
        project, _ = reset_project("BBOARD")
        copy_tickets(
            project,
            max(sizes),
            status_keys=["new", "in_progress", "awaiting_customer", "in_review", "resolved"],
        )
        figures["board_5x50"] = {
            **summarise(board_load(server.base, token or api_token("bench-agent"), "BBOARD", 200)),
            "tickets": max(sizes),
        }
    finally:
        server.stop()
    started = time.perf_counter()
    figures["adversarial_100k"] = adversarial_key_lengths(100_000)
    figures["adversarial_100k"]["seconds"] = round(time.perf_counter() - started, 1)
    write_results("ranks", figures)
    for key, value in figures.items():
        print(key, value)


if __name__ == "__main__":
    main()
