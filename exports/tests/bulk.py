"""Many tickets in one statement (INSERT ... SELECT generate_series), for exports and benchmarks.

Bypasses the ticket services on purpose: no audit rows, board events or search vectors, which
an export does not read. Numbers continue after the project's existing tickets; ranks are valid
fractional-index keys ("g" + 7 digits, so up to 9,999,999 tickets) ordered by number.
"""

from __future__ import annotations

from typing import Any

from django.db import connection

from tickets.models import Project, Status, User


def bulk_tickets(
    project: Project,
    count: int,
    *,
    requester: User | None = None,
    assignee: User | None = None,
    description_bytes: int = 60,
    status_key: str = "new",
) -> int:
    """Insert `count` tickets into `project`; returns the number of the last one."""
    status = Status.objects.get(key=status_key)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE tickets_project SET ticket_counter = ticket_counter + %s WHERE id = %s "
            "RETURNING ticket_counter",
            [count, project.pk],
        )
        last = int(cursor.fetchone()[0])
        first = last - count + 1
        cursor.execute(
            """
            INSERT INTO tickets_ticket (
                project_id, number, title, description, status_id, rank, priority, category,
                tags, assignee_id, requester_id, created_by_id, linked_type, linked_id,
                is_sensitive, is_archived, resolution_summary, metadata, escalation_level,
                reopened_count, created_at, updated_at)
            SELECT %(project)s, g,
                CASE WHEN g %% 97 = 0 THEN '=HYPERLINK("http://evil.example", "click ' || g || '")'
                     ELSE 'Printer ' || g || ' is on fire' END,
                CASE WHEN g %% 7 = 0 THEN E'Line one, with a comma\\nand "quotes" ' || g
                     ELSE rpad('Description of ticket ' || g || '. ', %(desc)s, 'lorem ipsum ') END,
                %(status)s, %(bucket)s || '|g' || lpad(g::text, 7, '0'),
                (ARRAY['low', 'medium', 'high', 'critical'])[1 + g %% 4],
                (ARRAY['billing', 'technical', 'account', 'general'])[1 + g %% 4],
                CASE WHEN g %% 50 = 0 THEN ARRAY['vip', '-negative']
                     WHEN g %% 3 = 0 THEN ARRAY['vip', 'billing'] ELSE ARRAY[]::varchar[] END,
                %(assignee)s, %(requester)s, %(requester)s, '', '', false, false, '',
                '{}'::jsonb, 0, 0,
                now() - make_interval(secs => (%(last)s - g)), now()
            FROM generate_series(%(first)s::int, %(last)s::int) AS g
            """,
            {
                "project": project.pk,
                "status": status.pk,
                "assignee": assignee.pk if assignee else None,
                "requester": requester.pk if requester else None,
                "first": first,
                "last": last,
                "desc": description_bytes,
                "bucket": str(project.rank_bucket),
            },
        )
    return last


def ticket_count(**filters: Any) -> int:
    from tickets.models import Ticket

    return Ticket.objects.filter(**filters).count()
