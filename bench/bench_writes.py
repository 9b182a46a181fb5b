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

    python bench/bench_writes.py [--requests 200] [--rounds 3]
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

from bench.common import api_token, gunicorn, setup_django, summarise, write_results

PROJECT = "BWRITES"
TICKETS = 100_000
CLK_TCK = os.sysconf("SC_CLK_TCK")


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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--label", default="", help="stored with the figures (e.g. 'baseline')")
    parser.add_argument("--name", default="writes", help="bench/results/<name>.json")
    args = parser.parse_args()
    setup_django()
    from bench.httpclient import Client
    from bench.seed import copy_tickets, reset_project
    from tickets.services.tickets import create_ticket

    project, agent = reset_project(PROJECT)
    keys = ["new", "in_progress", "awaiting_customer", "in_review", "resolved"]
    copy_tickets(project, TICKETS, status_keys=keys)
    token = api_token("bench-agent")
    ids = [create_ticket(actor=agent, project=project, title=f"Mover {i}").pk for i in range(52)]
    cases: dict[str, Callable[[Any], float]] = {
        "floor": floor,
        "create": create,
        "move_status": Mover(ids[2:]),
    }
    figures: dict[str, Any] = {
        "label": args.label,
        "tickets": TICKETS,
        "requests_per_case_per_round": args.requests,
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }
    rounds: list[dict[str, Any]] = []
    server = gunicorn(workers=1)
    try:
        pid = worker_pid(server.proc.pid)
        for _ in range(args.rounds):
            client = Client(server.base, token)
            for _ in range(args.warmup):
                for call in cases.values():
                    call(client)
            samples: dict[str, list[float]] = {name: [] for name in cases}
            cpu: dict[str, float] = dict.fromkeys(cases, 0.0)
            for _ in range(args.requests):
                for name, call in cases.items():
                    before = cpu_ms(pid)
                    samples[name].append(call(client))
                    cpu[name] += cpu_ms(pid) - before
            client.close()
            one = {name: summarise(s) for name, s in samples.items()}
            for name in cases:
                one[name]["worker_cpu_ms_per_request"] = round(cpu[name] / args.requests, 3)
            rounds.append(one)
    finally:
        server.stop()
    figures["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    for name in cases:
        figures[name] = {
            key: round(statistics.median(r[name][key] for r in rounds), 3)
            for key in ("p50_ms", "p90_ms", "worker_cpu_ms_per_request")
        }
    for name in ("create", "move_status"):
        figures[f"{name}_p50_over_floor"] = round(
            figures[name]["p50_ms"] / figures["floor"]["p50_ms"], 2
        )
    figures["rounds"] = rounds
    figures["statements"] = statements_per_request(token, ids)
    write_results(args.name, figures)
    for name in cases:
        print(name, figures[name])
    print({k: v for k, v in figures["statements"].items() if not k.endswith("_sql")})


if __name__ == "__main__":
    main()
