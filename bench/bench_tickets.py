"""Issue 4: with 1M tickets in the database, a filtered full-text page of 50 (p50 <= 30 ms target) and
ticket detail GET through gunicorn on one worker (>= 380 req/s target).

The project is seeded once by COPY and reused by later runs (pass --reseed to rebuild). Floor in
the same run: a minimal DRF view on the same gunicorn worker.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import api_token, gunicorn, setup_django, summarise, write_results

KEY = "BTIX"


def ensure_seeded(n: int, reseed: bool) -> tuple[Any, float]:
    from bench.seed import copy_tickets, reset_project
    from tickets.models import Project, Ticket

    project = Project.objects.filter(key=KEY).first()
    if project is not None and not reseed and Ticket.objects.filter(project=project).count() == n:
        return project, 0.0
    started = time.perf_counter()
    project, _ = reset_project(KEY)
    copy_tickets(
        project,
        n,
        status_keys=["new", "open", "in_progress", "awaiting_customer", "resolved"],
        text=True,
    )
    return project, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--reseed", action="store_true")
    args = parser.parse_args()
    setup_django()
    from bench.httpclient import Client
    from tickets.models import Ticket

    project, seed_seconds = ensure_seeded(args.tickets, args.reseed)
    token = api_token("bench-agent")
    ids = list(
        Ticket.objects.filter(project=project).values_list("pk", flat=True)[
            :: max(1, args.tickets // 5000)
        ]
    )
    rng = random.Random(7)
    queries = [
        "q=printer&priority=high",
        "q=laptop%20screen&status_category=todo",
        "q=vpn&category=technical&ordering=-created_at",
        "q=license&assignee=none",
        "q=password&status=open,new",
    ]
    server = gunicorn(workers=1)
    figures: dict[str, Any] = {"tickets": args.tickets, "seed_seconds": round(seed_seconds, 1)}
    try:
        client = Client(server.base, token)
        for _ in range(30):
            client.request("GET", f"/api/v1/tickets/?project={KEY}&{queries[0]}&page_size=50")
        search = []
        for i in range(max(50, args.requests // 5)):
            status, body, ms = client.request(
                "GET", f"/api/v1/tickets/?project={KEY}&{queries[i % len(queries)]}&page_size=50"
            )
            assert status == 200, body[:300]
            search.append(ms)
        figures["search_page_50"] = summarise(search)
        detail = []
        for _ in range(50):
            client.request("GET", f"/api/v1/tickets/{ids[0]}/")
        for _ in range(args.requests * 2):
            status, body, ms = client.request("GET", f"/api/v1/tickets/{rng.choice(ids)}/")
            assert status == 200, body[:300]
            detail.append(ms)
        figures["detail"] = {**summarise(detail), "rps": round(1000 / statistics.fmean(detail), 1)}
        floor = [client.request("GET", "/api/v1/meta/")[2] for _ in range(args.requests)]
        figures["floor_drf_minimal_view"] = {
            **summarise(floor),
            "rps": round(1000 / statistics.fmean(floor), 1),
        }
        client.close()
    finally:
        server.stop()
    write_results("tickets", figures)
    for key, value in figures.items():
        print(key, value)


if __name__ == "__main__":
    main()
