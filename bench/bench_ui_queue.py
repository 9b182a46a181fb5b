"""The queue's target: over 1M tickets, filtered and searched, navigation -> rows rendered p50.

Seeds a project of N tickets (default 1,000,000) by COPY with searchable text (bench/seed.py's fast
path; skipped when the project already holds N), serves the built app with gunicorn on the
benchmark database, and loads `/tickets?<filters>` in headless Chromium (Debian's) signed in by a
session cookie. One sample = a full page load, from the navigation's start (performance time 0)
to the first table row of the expected result in the DOM: boot, `me`, `meta` and the tickets
request included. The same filters' API call alone is timed as a floor. Writes
bench/results/ui_queue.json (sizes, figures, load average before and after, date).

    python bench/bench_ui_queue.py [--tickets N] [--samples K]   # a first run seeds for minutes
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("BENCH_DATABASE_NAME", "helpline_bench_ui_queue")

from bench.common import (
    ROOT,
    Server,
    child_env,
    free_port,
    setup_django,
    summarise,
    write_results,
)

PROJECT = "QBIG"
QUERIES = [
    "project=QBIG&status=open&q=printer",
    "project=QBIG&priority=high&q=refund",
    "project=QBIG&status_category=todo&q=password%20reset",
    "project=QBIG&q=vpn&ordering=-updated_at",
]


def seed(n: int) -> tuple[float | None, Any]:
    from bench.seed import copy_tickets, reset_project
    from tickets.models import Membership, Project, Ticket, User

    project = Project.objects.filter(key=PROJECT).first()
    if project is not None and Ticket.objects.filter(project=project).count() == n:
        agent = User.objects.get(username="bench-agent")
        return None, agent
    started = time.monotonic()
    project, agent = reset_project(PROJECT)
    copy_tickets(project, n, status_keys=["new", "open", "in_progress", "resolved"], text=True)
    Membership.objects.filter(user=agent, project=project).update(role="lead")
    return time.monotonic() - started, agent


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--samples", type=int, default=15)
    args = parser.parse_args()
    setup_django()
    from django.conf import settings
    from django.test import Client

    seeded_s, agent = seed(args.tickets)
    print(
        f"seeded {args.tickets} tickets in {seeded_s}s" if seeded_s else "reusing seed", flush=True
    )
    if not (ROOT / "frontend" / "dist" / "index.html").exists():
        raise SystemExit("build the UI first: make ui")
    # The session cookie is made here (force_login): the server must sign and check it with this
    # process's SECRET_KEY (child_env's own key made every request 401).
    env = child_env(
        SECRET_KEY=settings.SECRET_KEY, SESSION_COOKIE_SECURE="0", CSRF_COOKIE_SECURE="0"
    )
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=env,
        check=True,
    )
    port = free_port()
    venv = Path(sys.executable).parent
    server = Server(
        [
            str(venv / "gunicorn"),
            "config.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--access-logfile",
            "/dev/null",
            "--log-level",
            "warning",
        ],
        port,
        env,
    )
    client = Client()
    client.force_login(agent)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    http = httpx.Client(base_url=server.base, cookies={settings.SESSION_COOKIE_NAME: cookie})
    expected = {}
    for query in QUERIES:
        response = http.get(f"/api/v1/tickets/?page_size=50&{query}", timeout=120)
        if response.status_code != 200:
            http.close()
            server.stop()  # a failed check must not leave the server running
            raise SystemExit(f"{query}: {response.status_code} {response.text[:500]}")
        body = response.json()
        expected[query] = body["results"][0]["key"] if body["results"] else None
    from playwright.sync_api import sync_playwright

    pages: dict[str, list[float]] = {q: [] for q in QUERIES}
    load_before = os.getloadavg()
    api: dict[str, list[float]] = {q: [] for q in QUERIES}
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", headless=True)
            context = browser.new_context(base_url=server.base)
            context.add_cookies(
                [{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": server.base}]
            )
            page = context.new_page()
            page.goto("/tickets?project=QBIG")  # warm: assets cached as a returning agent has them
            page.wait_for_selector("tbody tr", timeout=120_000)
            for i in range(args.samples + 1):
                for query in QUERIES:
                    page.goto(f"/tickets?{query}", wait_until="commit")
                    first = expected[query]
                    ms = page.wait_for_function(
                        """(first) => {
                            if (first === null)
                                return document.body.textContent.includes('No tickets match')
                                    ? performance.now() : null;
                            const a = document.querySelector('tbody tr td:first-child a');
                            return a && a.textContent === first ? performance.now() : null;
                        }""",
                        arg=first,
                        polling="raf",
                        timeout=120_000,
                    ).json_value()
                    started = time.perf_counter()
                    http.get(f"/api/v1/tickets/?page_size=50&{query}", timeout=120)
                    if i > 0:  # the first round warms caches
                        pages[query].append(float(ms))
                        api[query].append((time.perf_counter() - started) * 1000)
            browser.close()
    finally:
        http.close()
        server.stop()
    every = [v for values in pages.values() for v in values]
    p50 = statistics.median(every)
    figures = {
        "what": "queue over N tickets, filtered and searched: full page load -> first row rendered",
        "tickets": args.tickets,
        "seed_seconds": seeded_s,
        "samples_per_query": args.samples,
        "target_p50_ms": 400,
        "met": p50 <= 400,
        "load_average": {"before": load_before, "after": os.getloadavg()},
        "navigation_to_rows": summarise(every),
        "per_query_p50_ms": {q: round(statistics.median(v), 1) for q, v in pages.items()},
        "first_key": expected,
        "api_alone_p50_ms": {q: round(statistics.median(v), 1) for q, v in api.items()},
    }
    print(json.dumps(figures, indent=2))
    write_results("ui_queue", figures)


if __name__ == "__main__":
    main()
