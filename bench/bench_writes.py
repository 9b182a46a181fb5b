"""Issue 18: what a write costs through HTTP at 100k tickets, one sync gunicorn worker, DEBUG off.

Cases, sequential keep-alive requests from this process (the server is its own process):
- `create`: `POST /api/v1/tickets/` (bottom of the default column of a 100k-ticket project);
- `move_status`: `PATCH /api/v1/tickets/{id}/move/` to another column (new <-> in_progress,
  rotating over 50 tickets so consecutive calls lock different rows; those were created through
  the create service, so they have their SLA rows as every real ticket does: the COPY-seeded ones
  have none and their first move would start their clocks);
- `floor`: `GET /api/v1/meta/` (a DRF view with no auth and no database) in the same rounds, so
  figures of noisy runs can be compared as ratios to it.
Each round runs the three cases interleaved call by call (after a warm-up); 3 rounds, medians of
the rounds' p50/p90. Also: the worker's CPU per request (utime + stime from /proc over the round),
statements per request in process (CaptureQueriesContext around API calls with token auth:
create, move, PATCH status, board read) and the load average around the run.

    python bench/bench_writes.py [--requests 200] [--rounds 3] [--before /path/to/earlier/checkout]

With `--before`, a second gunicorn runs that checkout on the same database and the calls alternate
between the two (as bench_one_road.py does): the after/before ratios are measured in one run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_one_road import gunicorn_in
from bench.common import Server, api_token, gunicorn, setup_django, summarise, write_results
from bench.httpclient import Client

PROJECT = "BWRITES"
TICKETS = 100_000
CLK_TCK = os.sysconf("SC_CLK_TCK")
CASES = ("floor", "create", "move_status")


def worker_pid(master: int) -> int:
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    assert len(children) == 1, children
    return int(children[0])


def cpu_ms(pid: int) -> float:
    """utime + stime of a process so far, in ms."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) * 1000 / CLK_TCK


class Mover:
    """Status changes by the move endpoint, new <-> in_progress (different columns)."""

    def __init__(self, ids: list[int]) -> None:
        self.ids = ids
        self.state = dict.fromkeys(ids, "new")
        self.turn = 0

    def __call__(self, client: Any) -> float:
        pk = self.ids[self.turn % len(self.ids)]
        self.turn += 1
        self.state[pk] = "in_progress" if self.state[pk] == "new" else "new"
        status, data, ms = client.request(
            "PATCH", f"/api/v1/tickets/{pk}/move/", {"status": self.state[pk]}
        )
        assert status == 200, (status, data[:300])
        return float(ms)


def create(client: Any) -> float:
    status, data, ms = client.request(
        "POST", "/api/v1/tickets/", {"project": PROJECT, "title": "Bench create"}
    )
    assert status == 201, (status, data[:300])
    return float(ms)


def floor(client: Any) -> float:
    status, _, ms = client.request("GET", "/api/v1/meta/")
    assert status == 200
    return float(ms)


def statements_per_request(token: str, ids: list[int]) -> dict[str, Any]:
    """Statements each request sends (token auth, view, service, response; SAVEPOINT/RELEASE
    of the transaction included, as BEGIN/COMMIT would be), in process; and their text."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from rest_framework.test import APIClient

    client = APIClient(HTTP_AUTHORIZATION=f"Token {token}", HTTP_HOST="127.0.0.1")
    a, b = ids[0], ids[1]
    calls = {
        "create": ("post", "/api/v1/tickets/", {"project": PROJECT, "title": "Counted"}),
        "move_status": ("patch", f"/api/v1/tickets/{a}/move/", {"status": "in_progress"}),
        "patch_status": ("patch", f"/api/v1/tickets/{b}/", {"status": "in_progress"}),
        "board_read": ("get", f"/api/v1/projects/{PROJECT}/board/?limit=50", None),
    }
    counts: dict[str, Any] = {}
    for name, (method, path, body) in calls.items():
        with CaptureQueriesContext(connection) as seen:
            response = getattr(client, method)(path, body, format="json")
        assert response.status_code in (200, 201), (name, response.content[:300])
        counts[name] = len(seen.captured_queries)
        counts[f"{name}_sql"] = [q["sql"][:160] for q in seen.captured_queries]
    return counts


def run_rounds(
    servers: dict[str, Server], token: str, ids: list[int], args: argparse.Namespace
) -> dict[str, list[dict[str, Any]]]:
    """Rounds of interleaved calls: per request, each case on each server (alternating which
    server goes first), so every server sees the same machine load."""
    names = list(servers)
    share = len(ids) // len(names)
    cases: dict[str, dict[str, Callable[[Any], float]]] = {
        name: {
            "floor": floor,
            "create": create,
            "move_status": Mover(ids[i * share : (i + 1) * share]),
        }
        for i, name in enumerate(names)
    }
    pids = {name: worker_pid(server.proc.pid) for name, server in servers.items()}
    rounds: dict[str, list[dict[str, Any]]] = {name: [] for name in names}
    for _ in range(args.rounds):
        clients = {name: Client(server.base, token) for name, server in servers.items()}
        for _ in range(args.warmup):
            for name in names:
                for call in cases[name].values():
                    call(clients[name])
        samples: dict[str, dict[str, list[float]]] = {
            name: {case: [] for case in CASES} for name in names
        }
        cpu = {name: dict.fromkeys(CASES, 0.0) for name in names}
        for i in range(args.requests):
            for case in CASES:
                for name in names if i % 2 == 0 else names[::-1]:
                    before = cpu_ms(pids[name])
                    samples[name][case].append(cases[name][case](clients[name]))
                    cpu[name][case] += cpu_ms(pids[name]) - before
        for name in names:
            clients[name].close()
            one = {case: summarise(found) for case, found in samples[name].items()}
            for case in CASES:
                one[case]["worker_cpu_ms_per_request"] = round(cpu[name][case] / args.requests, 3)
            rounds[name].append(one)
    return rounds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--label", default="", help="stored with the figures (e.g. 'baseline')")
    parser.add_argument("--name", default="writes", help="bench/results/<name>.json")
    parser.add_argument(
        "--before",
        type=Path,
        help="a checkout of earlier code: a second gunicorn there, calls interleaved with this tree's",
    )
    args = parser.parse_args()
    setup_django()
    from bench.seed import copy_tickets, reset_project
    from tickets.services.tickets import create_ticket

    project, agent = reset_project(PROJECT)
    keys = ["new", "in_progress", "awaiting_customer", "in_review", "resolved"]
    copy_tickets(project, TICKETS, status_keys=keys)
    token = api_token("bench-agent")
    ids = [create_ticket(actor=agent, project=project, title=f"Mover {i}").pk for i in range(102)]
    figures: dict[str, Any] = {
        "label": args.label,
        "tickets": TICKETS,
        "requests_per_case_per_round": args.requests,
        "rounds_run": args.rounds,
        "before_tree": str(args.before) if args.before else None,
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }
    servers = {"after": gunicorn(workers=1)}
    if args.before:
        servers["before"] = gunicorn_in(args.before.resolve())
    try:
        rounds = run_rounds(servers, token, ids[2:], args)
    finally:
        for server in servers.values():
            server.stop()
    figures["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    for name, found in rounds.items():
        side: dict[str, Any] = {}
        for case in CASES:
            side[case] = {
                key: round(statistics.median(r[case][key] for r in found), 3)
                for key in ("p50_ms", "p90_ms", "worker_cpu_ms_per_request")
            }
        for case in ("create", "move_status"):
            side[f"{case}_p50_over_floor"] = round(
                side[case]["p50_ms"] / side["floor"]["p50_ms"], 2
            )
        side["rounds"] = found
        figures[name] = side
    if args.before:
        figures["after_over_before_p50"] = {
            case: round(figures["after"][case]["p50_ms"] / figures["before"][case]["p50_ms"], 3)
            for case in CASES
        }
    figures["statements_after"] = statements_per_request(token, ids[:2])
    write_results(args.name, figures)
    for name in servers:
        for case in CASES:
            print(name, case, figures[name][case])
    if args.before:
        print("after/before p50", figures["after_over_before_p50"])
    print({k: v for k, v in figures["statements_after"].items() if not k.endswith("_sql")})


if __name__ == "__main__":
    main()
