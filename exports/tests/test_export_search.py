"""An export's search stays a condition of its own query (evaluated in the COPY's snapshot), never
an id list read beforehand; the queue's list narrows a rare term to ids (the positive control)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from exports.selectors import export_tickets
from tests_support.factories import make_ticket
from tickets.filters import apply_ticket_filters, parse_ticket_filters
from tickets.selectors import visible_tickets

pytestmark = pytest.mark.django_db


def ticket_reads(captured: CaptureQueriesContext) -> list[str]:
    """Statements that read tickets (the visibility rule reads memberships: not counted)."""
    return [q["sql"] for q in captured.captured_queries if 'FROM "tickets_ticket"' in q["sql"]]


def test_an_exports_search_is_compiled_into_its_query_not_read_before(desk):
    make_ticket(desk["project"], desk["agent"], title="Refund for order 1182")
    filters = parse_ticket_filters({"q": "refund"})
    with CaptureQueriesContext(connection) as built:
        qs = export_tickets(
            user=desk["agent"], project=desk["project"], filters=filters, as_of=timezone.now()
        )
    assert ticket_reads(built) == []
    assert "@@" in str(qs.query)
    assert [t.title for t in qs] == ["Refund for order 1182"]

    # The list's path reads the matches first and pins them as ids.
    with CaptureQueriesContext(connection) as listed:
        narrowed = apply_ticket_filters(visible_tickets(desk["agent"]), filters, user=desk["agent"])
    assert len(ticket_reads(listed)) == 1
    assert '"id" IN' in str(narrowed.query)
