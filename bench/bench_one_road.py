"""Issue 15: the move on the stock connection against the code before it, in one run.

Two gunicorns (one sync worker each) on the same benchmark database: `--before DIR` is a checkout
of the earlier code (e.g. `git worktree add /tmp/before 398866b`), the other is this tree. Moves
(top insert: the last ticket moved above the first) at 1k and 100k tickets and board loads
(5 columns x 50 cards of 100k tickets), creates and status changes by PATCH at 100k tickets
(issue 18) alternate between the two servers, so both see the same machine load. Also: ticket
rows written per move (pg_stat_xact_user_tables) and statements per write through the API
(CaptureQueriesContext, in process, this tree), and the load average around the run.

    python bench/bench_one_road.py --before /tmp/before
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (
    Server,
    api_token,
    child_env,
    free_port,
    setup_django,
    summarise,
    write_results,
)


def gunicorn_in(directory: Path) -> Server:
    port = free_port()
    venv = Path(sys.executable).parent
    argv = [
        str(venv / "gunicorn"),
        "--config",
        str(Path(__file__).resolve().parent / "gunicorn_bare.conf.py"),
        "--chdir",
        str(directory),
        "config.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        "1",
        "--access-logfile",
        "/dev/null",
        "--log-level",
        "warning",
    ]
    return Server(argv, port, child_env())


def top_move(client: Any, project: Any) -> float:
    from tickets.models import Ticket

    ordered = Ticket.objects.filter(project=project).order_by("rank").values_list("pk", flat=True)
    moved, first = ordered.reverse()[0], ordered[0]
    status, data, ms = client.request(
        "PATCH", f"/api/v1/tickets/{moved}/move/", {"after_id": first}
    )
    assert status == 200, (status, data[:300])
    return float(ms)


def board(client: Any) -> float:
    status, _, ms = client.request("GET", "/api/v1/projects/BBOARD/board/?limit=50")
    assert status == 200
    return float(ms)


def create(client: Any) -> float:
    body = {"project": "BRLARGE", "title": "Bench create"}
    status, data, ms = client.request("POST", "/api/v1/tickets/", body)
    assert status == 201, (status, data[:300])
    return float(ms)


def status_changer(ids: list[int]) -> Any:
    """PATCH /tickets/{id}/ with the other status each time (open <-> in_progress), rotating
    over `ids` so consecutive calls lock different rows."""
    state = dict.fromkeys(ids, "open")
    turn = [0]

    def change(client: Any) -> float:
        pk = ids[turn[0] % len(ids)]
        turn[0] += 1
        state[pk] = "in_progress" if state[pk] == "open" else "open"
        status, data, ms = client.request("PATCH", f"/api/v1/tickets/{pk}/", {"status": state[pk]})
        assert status == 200, (status, data[:300])
        return float(ms)

    return change


def interleave(servers: dict[str, Any], n: int, call: Any) -> dict[str, list[float]]:
    """`n` calls per server, alternating which goes first, after 20 warm-up calls each."""
    samples: dict[str, list[float]] = {name: [] for name in servers}
    names = list(servers)
    for i in range(n + 20):
        for name in names if i % 2 == 0 else names[::-1]:
            ms = call(servers[name])
            if i >= 20:
                samples[name].append(ms)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--before", required=True, type=Path)
    parser.add_argument("--moves", type=int, default=200)
    parser.add_argument("--boards", type=int, default=100)
    args = parser.parse_args()
    setup_django()
    from bench.httpclient import Client
    from bench.seed import copy_tickets, reset_project
    from tickets.models import Ticket
    from tickets.services.moves import move_ticket

    projects = {}
    for n in (1000, 100_000):
        project, _ = reset_project("BRSMALL" if n == 1000 else "BRLARGE")
        copy_tickets(project, n, status_keys=["open"])
        projects[n] = project
    board_project, _ = reset_project("BBOARD")
    keys = ["new", "in_progress", "awaiting_customer", "in_review", "resolved"]
    copy_tickets(board_project, 100_000, status_keys=keys)
    token = api_token("bench-agent")
    servers = {"before": gunicorn_in(args.before.resolve()), "after": gunicorn_in(Path.cwd())}
    figures: dict[str, Any] = {"moves_per_case": args.moves, "before_tree": str(args.before)}
    figures["load_average_at_start"] = [round(x, 2) for x in os.getloadavg()]
    try:
        clients = {name: Client(server.base, token) for name, server in servers.items()}
        for n, project in projects.items():
            found = interleave(clients, args.moves, lambda c, p=project: top_move(c, p))
            figures[f"move_top_n{n}"] = {name: summarise(s) for name, s in found.items()}
        found = interleave(clients, args.boards, board)
        figures["board_5x50_n100000"] = {name: summarise(s) for name, s in found.items()}
        found = interleave(clients, args.moves, create)
        figures["create_n100000"] = {name: summarise(s) for name, s in found.items()}
        large = projects[100_000]
        ids = list(
            Ticket.objects.filter(project=large).order_by("-pk").values_list("pk", flat=True)[:50]
        )
        found = interleave(clients, args.moves, status_changer(ids))
        figures["status_patch_n100000"] = {name: summarise(s) for name, s in found.items()}
        for client in clients.values():
            client.close()
    finally:
        for server in servers.values():
            server.stop()
    p50 = {
        (name, n): figures[f"move_top_n{n}"][name]["p50_ms"] for name in servers for n in projects
    }
    figures["ratios"] = {
        "move_p50_100k_after_over_before": round(p50["after", 100_000] / p50["before", 100_000], 3),
        "move_p50_100k_over_1k_after": round(p50["after", 100_000] / p50["after", 1000], 3),
        "move_p50_100k_over_1k_before": round(p50["before", 100_000] / p50["before", 1000], 3),
        "board_p50_after_over_before": round(
            figures["board_5x50_n100000"]["after"]["p50_ms"]
            / figures["board_5x50_n100000"]["before"]["p50_ms"],
            3,
        ),
    }
    for case in ("create_n100000", "status_patch_n100000"):
        figures["ratios"][f"{case}_p50_after_over_before"] = round(
            figures[case]["after"]["p50_ms"] / figures[case]["before"]["p50_ms"], 3
        )
    figures["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    figures["ticket_rows_written_per_move"] = rows_written(move_ticket, projects[1000])
    figures["statements_per_top_move_after"] = statements(move_ticket, projects[1000])
    figures["statements_per_request_after"] = request_statements(projects[1000], token)
    write_results("one_road", figures)
    for key, value in figures.items():
        print(key, value)


def rows_written(move_ticket: Any, project: Any) -> int:
    """Ticket rows one move updated, read from pg_stat_xact_user_tables inside its transaction."""
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction

    from tickets.models import Ticket

    agent = get_user_model().objects.get(username="bench-agent")
    a, b, c = (
        Ticket.objects.filter(project=project).order_by("rank").values_list("pk", flat=True)[:3]
    )
    with transaction.atomic(), connection.cursor() as cursor:
        sql = "SELECT n_tup_upd FROM pg_stat_xact_user_tables WHERE relname = 'tickets_ticket'"
        cursor.execute(sql)
        before = int(cursor.fetchone()[0])
        move_ticket(actor=agent, ticket_id=c, before_id=a, after_id=b)
        cursor.execute(sql)
        written = int(cursor.fetchone()[0]) - before
        transaction.set_rollback(True)
    return written


def statements(move_ticket: Any, project: Any) -> int:
    """Statements one top-insert move sends (BEGIN and COMMIT included), in process."""
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tickets.models import Ticket

    agent = get_user_model().objects.get(username="bench-agent")
    ordered = Ticket.objects.filter(project=project).order_by("rank").values_list("pk", flat=True)
    moved, first = ordered.reverse()[0], ordered[0]
    with CaptureQueriesContext(connection) as seen:
        move_ticket(actor=agent, ticket_id=moved, after_id=first)
    return len(seen.captured_queries)


def request_statements(project: Any, token: str) -> dict[str, int]:
    """Statements each write request sends through the API (token auth, view, service, response;
    BEGIN and COMMIT included), in process on this tree."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from rest_framework.test import APIClient

    from tickets.models import Ticket

    client = APIClient(HTTP_AUTHORIZATION=f"Token {token}", HTTP_HOST="127.0.0.1")
    ordered = Ticket.objects.filter(project=project).order_by("rank").values_list("pk", flat=True)
    moved, first = ordered.reverse()[0], ordered[0]
    calls = {
        "move_top": ("patch", f"/api/v1/tickets/{moved}/move/", {"after_id": first}),
        "status_patch": ("patch", f"/api/v1/tickets/{first}/", {"status": "in_progress"}),
        "create": ("post", "/api/v1/tickets/", {"project": project.key, "title": "Counted"}),
    }
    counts = {}
    for name, (method, path, body) in calls.items():
        with CaptureQueriesContext(connection) as seen:
            response = getattr(client, method)(path, body, format="json")
        assert response.status_code in (200, 201), (name, response.content[:300])
        counts[name] = len(seen.captured_queries)
    return counts


if __name__ == "__main__":
    main()
