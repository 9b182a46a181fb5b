"""Projects, columns, the board and moves over HTTP, with exact contract shapes and errors."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests_support.factories import make_ticket
from tickets.models import Ticket

pytestmark = pytest.mark.django_db


def column_ids(board: dict[str, Any]) -> dict[str, list[int]]:
    return {c["name"]: [t["id"] for t in c["tickets"]] for c in board["columns"]}


def test_new_project_has_the_default_columns(as_user, site_admin):
    api = as_user(site_admin)
    created = api.post("/api/v1/projects/", {"key": "OPS", "name": "Operations"}, format="json")
    assert created.status_code == 201, created.content
    columns = api.get("/api/v1/projects/OPS/columns/").json()
    assert [(c["name"], [s["key"] for s in c["statuses"]]) for c in columns] == [
        ("To Do", ["new", "open", "todo"]),
        ("In Progress", ["in_progress", "blocked"]),
        ("Waiting", ["awaiting_customer", "awaiting_third_party"]),
        ("Review", ["in_review"]),
        ("Done", ["resolved", "done", "closed"]),
    ]
    assert columns[0]["ticket_count"] == 0
    assert columns[0]["is_over_limit"] is False


@pytest.mark.parametrize("key", ["ops", "O", "TOOLONGKEYXX", "OP1", ""])
def test_project_key_is_validated(as_user, site_admin, key):
    response = as_user(site_admin).post(
        "/api/v1/projects/", {"key": key, "name": "x"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"


def test_board_lists_columns_in_rank_order_and_moves_write_one_row(desk, as_user):
    agent = desk["agent"]
    tickets = [make_ticket(desk["project"], agent, title=f"T{i}") for i in range(4)]
    api = as_user(agent)
    board = api.get("/api/v1/projects/DESK/board/").json()
    assert board["seq"] == 4
    assert column_ids(board)["To Do"] == [t.pk for t in tickets]
    # Move the last ticket between the first and the second.
    with CaptureQueriesContext(connection) as queries:
        moved = api.patch(
            f"/api/v1/tickets/{tickets[3].pk}/move/",
            {"before_id": tickets[0].pk, "after_id": tickets[1].pk},
            format="json",
        )
    assert moved.status_code == 200, moved.content
    writes = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].lstrip().startswith(('UPDATE "tickets_ticket"', "UPDATE tickets_ticket "))
    ]
    assert len(writes) == 1
    board = api.get("/api/v1/projects/DESK/board/").json()
    assert column_ids(board)["To Do"] == [
        tickets[0].pk,
        tickets[3].pk,
        tickets[1].pk,
        tickets[2].pk,
    ]
    # Into another column, at its bottom (no neighbours).
    api.patch(f"/api/v1/tickets/{tickets[0].pk}/move/", {"status": "in_progress"}, format="json")
    api.patch(f"/api/v1/tickets/{tickets[1].pk}/move/", {"status": "blocked"}, format="json")
    board = api.get("/api/v1/projects/DESK/board/").json()
    assert column_ids(board)["In Progress"] == [tickets[0].pk, tickets[1].pk]
    # To the top of a column: after_id only.
    api.patch(
        f"/api/v1/tickets/{tickets[2].pk}/move/",
        {"status": "in_progress", "after_id": tickets[0].pk},
        format="json",
    )
    board = api.get("/api/v1/projects/DESK/board/").json()
    assert column_ids(board)["In Progress"] == [tickets[2].pk, tickets[0].pk, tickets[1].pk]
    assert column_ids(board)["To Do"] == [tickets[3].pk]
    counts = {c["name"]: c["ticket_count"] for c in board["columns"]}
    assert counts == {"To Do": 1, "In Progress": 3, "Waiting": 0, "Review": 0, "Done": 0}


def test_move_errors_follow_the_contract(desk, as_user):
    agent = desk["agent"]
    a, b, c = (make_ticket(desk["project"], agent, title=t) for t in "abc")
    api = as_user(agent)

    def move(ticket: Ticket, **body: Any) -> Any:
        return api.patch(f"/api/v1/tickets/{ticket.pk}/move/", body, format="json")

    assert move(a, status="nope").json()["error"]["code"] == "validation_error"
    wrong_column = move(a, status="in_progress", before_id=b.pk)
    assert (wrong_column.status_code, wrong_column.json()["error"]["code"]) == (
        400,
        "validation_error",
    )
    stale = move(c, before_id=a.pk, after_id=c.pk)
    assert stale.status_code == 400  # the moved ticket cannot be its own neighbour
    stale = move(a, before_id=c.pk, after_id=b.pk)  # c is below b: not adjacent in that order
    assert (stale.status_code, stale.json()["error"]["code"]) == (409, "stale_position")
    api.patch(f"/api/v1/tickets/{a.pk}/move/", {"status": "closed"}, format="json")
    invalid = move(a, status="in_progress")
    assert (invalid.status_code, invalid.json()["error"]["code"]) == (409, "invalid_transition")
    assert move(a, status="open").status_code == 200
    assert Ticket.objects.get(pk=a.pk).reopened_count == 1


def test_wip_limit_is_enforced_only_when_asked(desk, as_user):
    admin, agent = desk["admin"], desk["agent"]
    a, b = (
        make_ticket(desk["project"], agent, title="a"),
        make_ticket(desk["project"], agent, title="b"),
    )
    api = as_user(admin)
    columns = api.get("/api/v1/projects/DESK/columns/").json()
    review = next(c for c in columns if c["name"] == "Review")
    api.patch(f"/api/v1/projects/DESK/columns/{review['id']}/", {"max_limit": 1}, format="json")
    assert (
        api.patch(
            f"/api/v1/tickets/{a.pk}/move/", {"status": "in_review"}, format="json"
        ).status_code
        == 200
    )
    assert (
        api.patch(
            f"/api/v1/tickets/{b.pk}/move/", {"status": "in_review"}, format="json"
        ).status_code
        == 200
    )
    columns = api.get("/api/v1/projects/DESK/columns/").json()
    assert next(c for c in columns if c["name"] == "Review")["is_over_limit"] is True
    api.patch(f"/api/v1/tickets/{b.pk}/move/", {"status": "todo"}, format="json")
    api.patch(
        f"/api/v1/projects/DESK/columns/{review['id']}/", {"enforce_wip": True}, format="json"
    )
    refused = api.patch(f"/api/v1/tickets/{b.pk}/move/", {"status": "in_review"}, format="json")
    assert (refused.status_code, refused.json()["error"]["code"]) == (409, "wip_limit_exceeded")
    assert Ticket.objects.get(pk=b.pk).status.key == "todo"


def test_board_query_count_is_fixed(desk, as_user):
    api = as_user(desk["agent"])
    make_ticket(desk["project"], desk["agent"])
    with CaptureQueriesContext(connection) as few:
        api.get("/api/v1/projects/DESK/board/")
    for i in range(30):
        make_ticket(desk["project"], desk["agent"], title=f"more {i}", assignee=desk["agent"])
    with CaptureQueriesContext(connection) as many:
        api.get("/api/v1/projects/DESK/board/")
    assert len(many.captured_queries) == len(few.captured_queries)


def test_board_paging_per_column(desk, as_user):
    tickets = [make_ticket(desk["project"], desk["agent"], title=f"T{i}") for i in range(5)]
    api = as_user(desk["agent"])
    board = api.get("/api/v1/projects/DESK/board/?limit=2").json()
    todo = board["columns"][0]
    assert [t["id"] for t in todo["tickets"]] == [tickets[0].pk, tickets[1].pk]
    page = api.get(todo["next"]).json()
    assert [t["id"] for t in page["results"]][:3] == [tickets[2].pk, tickets[3].pk, tickets[4].pk]
    assert api.get("/api/v1/projects/DESK/board/?limit=0").status_code == 400
    assert api.get("/api/v1/projects/DESK/board/?limit=x").status_code == 400


def test_customers_cannot_move_or_see_the_board_and_outsiders_get_404(desk, as_user):
    ticket = make_ticket(desk["project"], desk["customer"])
    customer = as_user(desk["customer"])
    assert (
        customer.patch(
            f"/api/v1/tickets/{ticket.pk}/move/", {"status": "open"}, format="json"
        ).status_code
        == 403
    )
    assert customer.get("/api/v1/projects/DESK/board/").status_code == 403
    outsider = as_user(desk["outsider"])
    assert outsider.get("/api/v1/projects/DESK/board/").status_code == 404
    assert (
        outsider.patch(
            f"/api/v1/tickets/{ticket.pk}/move/", {"status": "open"}, format="json"
        ).status_code
        == 404
    )


def test_a_column_of_two_statuses_is_one_column_for_the_gap(desk, as_user):
    """In Progress shows in_progress and blocked: its bottom is after its last ticket of either
    status, and two neighbours of different statuses are adjacent in it."""
    from tickets import ranking
    from tickets.models import Status

    agent = desk["agent"]
    x, y, z, w = (make_ticket(desk["project"], agent, title=t) for t in "xyzw")
    statuses = {s.key: s for s in Status.objects.all()}
    # Project order x < y < z < w; x in_progress, y blocked (both In Progress), z and w To Do.
    rx, ry, rz, rw = (
        ranking.make_rank(0, k) for k in ranking.generate_n_keys_between(None, None, 4)
    )
    for ticket, rank, key in ((x, rx, "in_progress"), (y, ry, "blocked"), (z, rz, "todo")):
        Ticket.objects.filter(pk=ticket.pk).update(rank=rank, status=statuses[key])
    Ticket.objects.filter(pk=w.pk).update(rank=rw, status=statuses["todo"])
    api = as_user(agent)
    to_bottom = api.patch(f"/api/v1/tickets/{w.pk}/move/", {"status": "in_progress"}, format="json")
    assert to_bottom.status_code == 200, to_bottom.content
    assert ry < Ticket.objects.get(pk=w.pk).rank < rz  # after y (blocked), before z
    between = api.patch(
        f"/api/v1/tickets/{w.pk}/move/", {"before_id": x.pk, "after_id": y.pk}, format="json"
    )
    assert between.status_code == 200, between.content
    assert rx < Ticket.objects.get(pk=w.pk).rank < ry


@pytest.mark.parametrize("field", ["before_id", "after_id"])
def test_ids_beyond_a_bigint_are_refused_or_not_found(desk, as_user, field):
    ticket = make_ticket(desk["project"], desk["agent"])
    api = as_user(desk["agent"])
    refused = api.patch(f"/api/v1/tickets/{ticket.pk}/move/", {field: 2**63}, format="json")
    assert (refused.status_code, refused.json()["error"]["code"]) == (400, "validation_error")
    missing = api.patch(f"/api/v1/tickets/{2**70}/move/", {}, format="json")
    assert (missing.status_code, missing.json()["error"]["code"]) == (404, "not_found")
