"""Ticket list: filters, full-text search, ordering, cursor pagination, query counts, stats."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests_support.factories import make_project, make_ticket, make_user
from tickets.models import Ticket
from tickets.services.conversation import add_message
from tickets.services.moves import move_ticket
from tickets.services.tickets import update_ticket

pytestmark = pytest.mark.django_db


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [t["id"] for t in response.json()["results"]]


@pytest.fixture
def tickets(desk):
    p, agent, customer = desk["project"], desk["agent"], desk["customer"]
    t1 = make_ticket(
        p,
        agent,
        title="Printer jams on page two",
        priority="low",
        category="technical",
        tags=["hw"],
        requester=customer,
    )
    t2 = make_ticket(
        p,
        agent,
        title="Refund for double charge",
        description="printer not involved",
        priority="critical",
        category="billing",
        assignee=agent,
    )
    t3 = make_ticket(
        p,
        agent,
        title="Password reset mail missing",
        priority="high",
        category="account",
        tags=["hw", "vip"],
        requester=desk["customer2"],
    )
    move_ticket(actor=agent, ticket_id=t3.pk, status_key="resolved")
    add_message(actor=agent, ticket_id=t1.pk, body="replaced the fuser unit")
    return t1, t2, t3


def test_filters(desk, as_user, tickets):
    t1, t2, t3 = tickets
    api = as_user(desk["agent"])
    assert ids(api.get("/api/v1/tickets/?ordering=created_at")) == [t1.pk, t2.pk, t3.pk]
    assert ids(api.get("/api/v1/tickets/?priority=low,high&ordering=created_at")) == [t1.pk, t3.pk]
    assert ids(api.get("/api/v1/tickets/?status=resolved")) == [t3.pk]
    assert ids(api.get("/api/v1/tickets/?status_category=todo&ordering=created_at")) == [
        t1.pk,
        t2.pk,
    ]
    assert ids(api.get("/api/v1/tickets/?category=billing")) == [t2.pk]
    assert ids(api.get("/api/v1/tickets/?assignee=me")) == [t2.pk]
    assert ids(api.get("/api/v1/tickets/?assignee=none&ordering=created_at")) == [t1.pk, t3.pk]
    assert ids(api.get("/api/v1/tickets/?assignee=agent")) == [t2.pk]
    assert ids(api.get("/api/v1/tickets/?requester=customer2")) == [t3.pk]
    assert ids(api.get("/api/v1/tickets/?tag=hw&ordering=created_at")) == [t1.pk, t3.pk]
    assert ids(api.get("/api/v1/tickets/?tag=hw,vip")) == [t3.pk]
    assert ids(api.get("/api/v1/tickets/?project=DESK&ordering=-priority")) == [t2.pk, t3.pk, t1.pk]
    assert ids(api.get("/api/v1/tickets/?ordering=priority")) == [t1.pk, t3.pk, t2.pk]
    future = (timezone.now() + timedelta(days=1)).isoformat()
    assert ids(api.get("/api/v1/tickets/", {"created_after": future})) == []
    assert len(ids(api.get("/api/v1/tickets/", {"created_before": future}))) == 3
    assert ids(api.get("/api/v1/tickets/?sla_state=on_track&ordering=created_at")) == [t1.pk, t2.pk]
    assert ids(api.get("/api/v1/tickets/?sla_state=met")) == [t3.pk]
    assert ids(api.get("/api/v1/tickets/?sla_state=no_sla")) == []
    assert ids(api.get("/api/v1/tickets/?ordering=sla_due_at")) == [t2.pk, t1.pk, t3.pk]


@pytest.mark.parametrize(
    "query, field",
    [
        ("priority=urgent", "priority"),
        ("status_category=doing", "status_category"),
        ("created_after=yesterday", "created_after"),
        ("ordering=title", "ordering"),
        ("archived=maybe", "archived"),
        ("sla_state=late", "sla_state"),
    ],
)
def test_bad_filters_are_400_naming_the_field(desk, as_user, query, field):
    response = as_user(desk["agent"]).get(f"/api/v1/tickets/?{query}")
    assert response.status_code == 400
    assert list(response.json()["error"]["details"]["fields"]) == [field]


def test_full_text_search_weights_title_over_description_and_messages(desk, as_user, tickets):
    t1, t2, _ = tickets
    api = as_user(desk["agent"])
    assert set(ids(api.get("/api/v1/tickets/?q=printer"))) == {t1.pk, t2.pk}
    assert ids(api.get("/api/v1/tickets/?q=fuser")) == [t1.pk]  # from a public message
    assert ids(api.get("/api/v1/tickets/?q=printer&priority=critical")) == [t2.pk]
    update_ticket(actor=desk["agent"], ticket_id=t2.pk, changes={"title": "Refund for toner"})
    assert ids(api.get("/api/v1/tickets/?q=toner")) == [
        t2.pk
    ]  # the write path keeps the index current
    from django.contrib.postgres.search import SearchQuery, SearchRank
    from django.db.models import F

    ranked = (
        Ticket.objects.filter(search_vector=SearchQuery("printer"))
        .annotate(r=SearchRank(F("search_vector"), SearchQuery("printer")))
        .order_by("-r")
        .values_list("pk", flat=True)
    )
    assert list(ranked) == [t1.pk, t2.pk]  # title (A) outranks description (B)


@pytest.mark.parametrize("few", [1, 2000])
def test_a_search_pages_the_same_whether_its_matches_are_few_or_many(
    desk, as_user, tickets, monkeypatch, few
):
    # Few matches are narrowed to their ids before the page is ordered; many keep the plain query.
    from tickets import filters

    monkeypatch.setattr(filters, "FEW_MATCHES", few)
    t1, t2, _ = tickets
    api = as_user(desk["agent"])
    assert ids(api.get("/api/v1/tickets/?q=printer")) == [t2.pk, t1.pk]
    assert ids(api.get("/api/v1/tickets/?q=printer&ordering=created_at")) == [t1.pk, t2.pk]
    first = api.get("/api/v1/tickets/?q=printer&page_size=1")
    assert ids(first) == [t2.pk]
    assert ids(api.get(first.json()["next"])) == [t1.pk]
    assert ids(api.get("/api/v1/tickets/?q=nosuchword")) == []


def test_customers_only_ever_see_their_own(desk, as_user, tickets):
    t1, _, t3 = tickets
    assert ids(as_user(desk["customer"]).get("/api/v1/tickets/")) == [t1.pk]
    assert ids(as_user(desk["customer"]).get("/api/v1/tickets/?q=password")) == []
    assert ids(as_user(desk["customer2"]).get("/api/v1/tickets/?q=password")) == [t3.pk]
    assert as_user(desk["customer"]).get(f"/api/v1/tickets/{t3.pk}/").status_code == 404
    assert ids(as_user(desk["outsider"]).get("/api/v1/tickets/")) == []


def test_cursor_pagination(desk, as_user):
    made = [make_ticket(desk["project"], desk["agent"], title=f"t{i}") for i in range(7)]
    api = as_user(desk["agent"])
    page = api.get("/api/v1/tickets/?page_size=3&ordering=created_at").json()
    seen = [t["id"] for t in page["results"]]
    assert page["previous"] is None
    while page["next"]:
        page = api.get(page["next"]).json()
        seen += [t["id"] for t in page["results"]]
    assert seen == [t.pk for t in made]
    assert len(api.get("/api/v1/tickets/?page_size=1000").json()["results"]) == 7  # capped at 200


def test_list_and_detail_use_a_fixed_number_of_queries(desk, as_user):
    api = as_user(desk["agent"])
    make_ticket(desk["project"], desk["agent"], assignee=desk["agent"])
    with CaptureQueriesContext(connection) as one:
        api.get("/api/v1/tickets/")
    for i in range(20):
        make_ticket(
            desk["project"],
            desk["agent"],
            title=f"x{i}",
            assignee=desk["lead"],
            requester=desk["customer"],
        )
    with CaptureQueriesContext(connection) as many:
        assert len(api.get("/api/v1/tickets/").json()["results"]) == 21
    assert len(many.captured_queries) == len(one.captured_queries)
    ticket = Ticket.objects.first()
    assert ticket is not None
    with CaptureQueriesContext(connection) as detail:
        api.get(f"/api/v1/tickets/{ticket.pk}/")
    assert len(detail.captured_queries) <= 6


def test_stats_by_aggregation(desk, as_user, tickets):
    other = make_project("OTHER")
    make_ticket(other, make_user("x", project=other, role="agent"))
    stats = as_user(desk["agent"]).get("/api/v1/stats/?project=DESK").json()
    assert stats["total_tickets"] == 3
    assert stats["open_tickets"] == 2
    assert stats["avg_tickets_per_day"] == 3.0
    assert stats["priority_breakdown"] == {"low": 1, "medium": 0, "high": 1, "critical": 1}
    assert stats["category_breakdown"] == {"technical": 1, "billing": 1, "account": 1}
    assert stats["status_breakdown"] == {"new": 2, "resolved": 1}
    assert stats["status_category_breakdown"] == {"todo": 2, "in_progress": 0, "done": 1}
    assert (
        stats["avg_first_response_seconds"] is not None and stats["avg_first_response_seconds"] >= 0
    )
    assert stats["avg_resolution_seconds"] is not None
    assert set(stats["sla"]) == {
        "on_track",
        "near_breach",
        "breached",
        "paused",
        "first_response_met_pct",
        "resolution_met_pct",
    }
    mine = as_user(desk["customer"]).get("/api/v1/stats/").json()
    assert mine["total_tickets"] == 1
    assert as_user(desk["outsider"]).get("/api/v1/stats/?project=DESK").status_code == 404
