"""The dashboard's stats: project and date-range filters, tickets created per day, SLA health now."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from sla.models import TicketSla
from tests_support.factories import make_project, make_ticket, make_user
from tickets.models import Ticket

pytestmark = pytest.mark.django_db


def at(day: int, hour: int = 12) -> datetime:
    return datetime(2026, 11, day, hour, tzinfo=UTC)


@pytest.fixture
def history(desk):
    """Nov 2 (2 tickets: high, low), Nov 4 (1: critical, resolved), Nov 6 (1: medium), and one
    in another project on Nov 4."""
    p, agent = desk["project"], desk["agent"]
    made = [
        (make_ticket(p, agent, priority="high", category="billing"), at(2, 9)),
        (make_ticket(p, agent, priority="low", category="technical"), at(2, 23)),
        (make_ticket(p, agent, priority="critical", category="billing"), at(4)),
        (make_ticket(p, agent, priority="medium", category="account"), at(6)),
    ]
    for ticket, created in made:
        Ticket.objects.filter(pk=ticket.pk).update(created_at=created)
    from tickets.services.tickets import update_ticket

    update_ticket(actor=agent, ticket_id=made[2][0].pk, changes={"status": "resolved"})
    other = make_project("OTHER")
    stranger = make_user("stranger", project=other, role="agent")
    Ticket.objects.filter(pk=make_ticket(other, stranger).pk).update(created_at=at(4))
    return [t for t, _ in made]


def test_date_range_filters_every_figure_and_fills_the_days(desk, as_user, history):
    api = as_user(desk["agent"])
    response = api.get(
        "/api/v1/stats/?project=DESK&created_after=2026-11-02&created_before=2026-11-05"
    )
    assert response.status_code == 200, response.content
    stats = response.json()
    assert stats["total_tickets"] == 3
    assert stats["open_tickets"] == 2
    assert stats["priority_breakdown"] == {"low": 1, "medium": 0, "high": 1, "critical": 1}
    assert stats["category_breakdown"] == {"billing": 2, "technical": 1}
    assert stats["status_breakdown"] == {"new": 2, "resolved": 1}
    assert stats["status_category_breakdown"] == {"todo": 2, "in_progress": 0, "done": 1}
    assert stats["created_per_day"] == [
        {"date": "2026-11-02", "count": 2},
        {"date": "2026-11-03", "count": 0},
        {"date": "2026-11-04", "count": 1},
    ]


def test_without_a_range_the_days_span_the_first_to_the_last_ticket(desk, as_user, history):
    stats = as_user(desk["agent"]).get("/api/v1/stats/?project=DESK").json()
    assert stats["total_tickets"] == 4
    assert stats["created_per_day"] == [
        {"date": "2026-11-02", "count": 2},
        {"date": "2026-11-03", "count": 0},
        {"date": "2026-11-04", "count": 1},
        {"date": "2026-11-05", "count": 0},
        {"date": "2026-11-06", "count": 1},
    ]
    everywhere = as_user(desk["admin"]).get("/api/v1/stats/").json()
    assert everywhere["total_tickets"] == 4  # the admin of DESK is not in OTHER


def test_no_tickets_no_days(desk, as_user):
    stats = as_user(desk["agent"]).get("/api/v1/stats/?project=DESK").json()
    assert (stats["total_tickets"], stats["created_per_day"]) == (0, [])


def test_the_ticket_filters_apply_and_bad_ones_are_400(desk, as_user, history):
    api = as_user(desk["agent"])
    assert api.get("/api/v1/stats/?project=DESK&priority=high,low").json()["total_tickets"] == 2
    bad = api.get("/api/v1/stats/?created_after=tuesday")
    assert bad.status_code == 400
    assert list(bad.json()["error"]["details"]["fields"]) == ["created_after"]
    assert api.get("/api/v1/stats/?project=NOPE").status_code == 404


def test_a_long_range_is_capped_to_the_last_366_days(desk, as_user, history):
    stats = (
        as_user(desk["agent"])
        .get("/api/v1/stats/?project=DESK&created_after=2020-01-01&created_before=2026-11-07")
        .json()
    )
    days = stats["created_per_day"]
    assert len(days) == 366
    assert days[0]["date"] == "2025-11-06" and days[-1] == {"date": "2026-11-06", "count": 1}
    assert sum(d["count"] for d in days) == 4


def test_breaches_and_near_breaches_now(desk, as_user, history):
    now = timezone.now()
    high, low, _resolved, medium = history
    # high: first response overdue (breached); low: past its warning (near breach);
    # medium: on track; the resolved one: met.
    TicketSla.objects.filter(ticket=high).update(
        fr_due_at=now - timedelta(minutes=5), fr_warn_at=now - timedelta(hours=1)
    )
    TicketSla.objects.filter(ticket=low).update(
        fr_due_at=now + timedelta(minutes=5),
        fr_warn_at=now - timedelta(minutes=1),
        res_due_at=now + timedelta(hours=5),
        res_warn_at=now + timedelta(hours=4),
    )
    TicketSla.objects.filter(ticket=medium).update(
        fr_due_at=now + timedelta(hours=5),
        fr_warn_at=now + timedelta(hours=4),
        res_due_at=now + timedelta(hours=50),
        res_warn_at=now + timedelta(hours=40),
    )
    sla = as_user(desk["agent"]).get("/api/v1/stats/?project=DESK").json()["sla"]
    assert (sla["breached"], sla["near_breach"], sla["on_track"]) == (1, 1, 1)
