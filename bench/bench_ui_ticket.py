"""The ticket page in headless Chromium: navigation -> conversation rendered (p50 over 10 loads) for a
ticket with 200 messages and 50 audit rows, against gunicorn + uvicorn on the benchmark database.

Target (issue 17): p50 <= 400 ms. The figure is `performance.now()` in the page when the 200th
message is in the DOM (time since the navigation started), polled every animation frame. Writes
bench/results/ui_ticket.json (sizes, figures, load average before and after, date).
"""

from __future__ import annotations

import json
import os
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ROOT, setup_django, summarise, write_results

MESSAGES = 200
AUDIT_ROWS = 50
LOADS = 10
KEY_NAME = "ticket_page_200_messages_50_audit"


def seed() -> str:
    from django.utils import timezone

    from bench.seed import delete_project
    from tests_support.factories import make_project, make_ticket, make_user
    from tickets.models import AuditLog, Message, User

    delete_project("UIBENCH")  # tickets protect their project: a second run deletes them first
    User.objects.filter(username="uibench").delete()
    project = make_project("UIBENCH", name="UI bench")
    agent = make_user("uibench", project=project, role="agent", full_name="Bench Agent")
    ticket = make_ticket(project, agent, title="A long conversation", description="Bench.")
    now = timezone.now()
    Message.objects.bulk_create(
        Message(
            ticket=ticket, author=agent, body=f"Message {i}: " + "words " * 30, internal=i % 5 == 0
        )
        for i in range(MESSAGES)
    )
    have = AuditLog.objects.filter(ticket_id=ticket.pk).count()
    AuditLog.objects.bulk_create(
        AuditLog(
            action="ticket.updated",
            actor=agent,
            project_id=project.pk,
            ticket_id=ticket.pk,
            payload={"old": {"priority": "low"}, "new": {"priority": "high"}},
            created_at=now,
        )
        for _ in range(AUDIT_ROWS - have)
    )
    return f"UIBENCH-{ticket.number}"


def measure(base: str, key: str) -> list[float]:
    from django.conf import settings
    from django.test import Client
    from playwright.sync_api import sync_playwright

    from tickets.models import User

    client = Client()
    client.force_login(User.objects.get(username="uibench"))
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    samples: list[float] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True)
        context = browser.new_context(base_url=base, viewport={"width": 1440, "height": 900})
        context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": base}])
        page = context.new_page()
        for i in range(LOADS + 1):
            page.goto("about:blank")
            page.goto(f"/tickets/{key}", wait_until="commit")
            handle = page.wait_for_function(
                f"""() => document.querySelectorAll('ol.messages > li').length >= {MESSAGES}
                          ? performance.now() : false""",
                polling="raf",
                timeout=60_000,
            )
            if i:  # the first load warms the server and the browser's cache of the assets
                samples.append(float(handle.json_value()))
        browser.close()
    return samples


def main() -> int:
    setup_django()
    from tests_support.live import asgi_server, gunicorn_server

    if not (ROOT / "frontend" / "dist" / "index.html").exists():
        print("frontend/dist is missing: run make ui first")
        return 1
    key = seed()
    load_before = os.getloadavg()
    with asgi_server() as ws, gunicorn_server(workers=2, WS_PUBLIC_URL=ws) as base:
        samples = measure(base, key)
    figures = {
        KEY_NAME: {**summarise(samples), "target_p50_ms": 400},
        "met": statistics.median(samples) <= 400,
        "sizes": {"messages": MESSAGES, "audit_rows": AUDIT_ROWS, "loads": LOADS},
        "what": "navigation -> 200 messages rendered, ticket with 200 messages and 50 audit rows",
        "load_average": {"before": load_before, "after": os.getloadavg()},
    }
    write_results("ui_ticket", figures)
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
