"""Fast seeding for benchmarks: tickets by COPY, ranks from `tickets.ranking`."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

WORDS = [
    "printer",
    "invoice",
    "refund",
    "login",
    "password",
    "vpn",
    "laptop",
    "screen",
    "email",
    "outage",
    "slow",
    "crash",
    "billing",
    "account",
    "export",
    "report",
    "dashboard",
    "mobile",
    "app",
    "sync",
    "calendar",
    "meeting",
    "access",
    "license",
    "upgrade",
    "network",
    "wifi",
    "server",
    "database",
    "timeout",
    "error",
    "payment",
    "card",
    "charge",
    "shipment",
    "order",
    "delivery",
    "customs",
]


def corpus_texts(limit: int = 40_000) -> list[str]:
    """Real ticket texts from the shared corpus (a realistic vocabulary), or [] when it is absent."""
    import csv
    import os
    from pathlib import Path

    path = Path(
        os.environ.get(
            "HELPLINE_TICKET_CORPUS",
            Path(__file__).resolve().parents[2] / "shared/data/it-tickets-train.csv",
        )
    )
    if not path.exists():
        return []
    with path.open(newline="", encoding="utf-8") as handle:
        return [row["text"] for _, row in zip(range(limit), csv.DictReader(handle), strict=False)]


def delete_project(key: str) -> None:
    """Delete a project with its tickets and every row that points at them (a no-op without it)."""
    from django.db import connection

    from tickets.models import Project

    old = Project.objects.filter(key=key).first()
    if old is None:
        return
    with connection.cursor() as cursor:
        # Every table with a foreign key to tickets (found in the catalogue, so new apps count).
        cursor.execute(
            """
            SELECT c.conrelid::regclass::text, a.attname FROM pg_constraint c
            JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey)
            WHERE c.contype = 'f' AND c.confrelid = 'tickets_ticket'::regclass
            """
        )
        for table, column in cursor.fetchall():
            cursor.execute(
                f"DELETE FROM {table} WHERE {column} IN (SELECT id FROM tickets_ticket WHERE project_id = %s)",
                [old.pk],
            )
        cursor.execute("DELETE FROM tickets_ticket WHERE project_id = %s", [old.pk])
        cursor.execute("DELETE FROM notifications_boardevent WHERE project_id = %s", [old.pk])
    old.delete()


def reset_project(key: str) -> Any:
    """A fresh project (its old tickets and events deleted) with default columns and one agent."""
    from tests_support.factories import ensure_default_statuses
    from tickets.models import Membership, User
    from tickets.services.projects import create_project

    ensure_default_statuses()
    delete_project(key)
    project = create_project(actor=None, key=key, name=f"Bench {key}")
    agent, _ = User.objects.get_or_create(username="bench-agent", defaults={"is_active": True})
    agent.set_password("bench-password-1")
    agent.save()
    Membership.objects.get_or_create(user=agent, project=project, defaults={"role": "agent"})
    return project, agent


def copy_tickets(
    project: Any,
    n: int,
    *,
    status_keys: list[str],
    start_number: int = 1,
    text: bool = False,
    spread_days: int = 365,
    seed: int = 1,
) -> None:
    """COPY n tickets into the project, ranked in insertion order, statuses round-robin.

    Creation times rise with the ticket number over `spread_days`, as on a real desk where tickets
    are inserted as they are created: the heap is then in `created_at` order (pg_stats
    correlation ~1), which is what the planner sees in production. Random times here made every
    newest-first page a random heap walk that no real desk has.
    """
    from django.db import connection

    from tickets import ranking
    from tickets.models import Priority, Project, Status

    rng = random.Random(seed)
    corpus = corpus_texts() if text else []
    statuses = [Status.objects.get(key=k).pk for k in status_keys]
    ranks = ranking.initial_ranks(n, bucket=project.rank_bucket)
    now = datetime.now(UTC)
    priorities = Priority.values
    categories = ["billing", "technical", "account", "general"]
    columns = (
        "project_id, number, title, description, status_id, rank, priority, category, tags, linked_type, "
        "linked_id, is_sensitive, is_archived, resolution_summary, metadata, escalation_level, "
        "reopened_count, created_at, updated_at"
    )
    raw = connection.connection if connection.connection is not None else None
    if raw is None:
        connection.ensure_connection()
        raw = connection.connection
    # With text, rows go through a staging table so the search vector is written with the row (as
    # the write path does) instead of by a second UPDATE that would scatter the heap order.
    target = "bench_staging" if text else "tickets_ticket"
    if text:
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE IF EXISTS bench_staging")
            cursor.execute(
                "CREATE UNLOGGED TABLE bench_staging AS SELECT * FROM tickets_ticket WITH NO DATA"
            )
    with raw.cursor() as cursor, cursor.copy(f"COPY {target} ({columns}) FROM STDIN") as copy:
        for i in range(n):
            created = now - timedelta(seconds=spread_days * 86400 * (n - i - rng.random()) / n)
            if corpus:
                words = rng.choice(corpus).split()
                title, description = " ".join(words[:8]), " ".join(words[8:80])
            elif text:
                title, description = (
                    " ".join(rng.choices(WORDS, k=5)),
                    " ".join(rng.choices(WORDS, k=25)),
                )
            else:
                title, description = f"Ticket {i}", ""
            copy.write_row(
                (
                    project.pk,
                    start_number + i,
                    title,
                    description,
                    statuses[i % len(statuses)],
                    ranks[i],
                    priorities[i % 4],
                    categories[i % 4],
                    "{}",
                    "",
                    "",
                    False,
                    False,
                    "",
                    "{}",
                    0,
                    0,
                    created,
                    created,
                )
            )
    Project.objects.filter(pk=project.pk).update(ticket_counter=start_number + n - 1)
    if text:
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO tickets_ticket ({columns}, search_vector) "
                f"SELECT {columns}, setweight(to_tsvector('english', title), 'A') "
                "|| setweight(to_tsvector('english', description), 'B') "
                "FROM bench_staging ORDER BY number"
            )
            cursor.execute("DROP TABLE bench_staging")
    with connection.cursor() as cursor:
        # VACUUM as autovacuum would, so the visibility map allows index-only scans.
        cursor.execute("VACUUM ANALYZE tickets_ticket")
