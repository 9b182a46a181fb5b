"""The assignee picker: a project's staff with each one's open load, in one query."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests_support.factories import make_project, make_ticket, make_user
from tickets.services.tickets import archive_ticket, update_ticket

pytestmark = pytest.mark.django_db

URL = "/api/v1/projects/DESK/assignees/"


@pytest.fixture
def loads(desk):
    """agent: 2 open (new, in_progress) + 1 resolved + 1 archived + 1 in another project;
    lead: 1 open; manager and admin: none."""
    p, agent, lead = desk["project"], desk["agent"], desk["lead"]
    make_ticket(p, lead, assignee=agent)
    moving = make_ticket(p, lead, assignee=agent)
    update_ticket(actor=lead, ticket_id=moving.pk, changes={"status": "in_progress"})
    done = make_ticket(p, lead, assignee=agent)
    update_ticket(actor=lead, ticket_id=done.pk, changes={"status": "resolved"})
    gone = make_ticket(p, lead, assignee=agent)
    archive_ticket(actor=lead, ticket_id=gone.pk)
    other = make_project("OTHER")
    from tickets.models import Membership

    Membership.objects.create(user=agent, project=other, role="agent")
    make_ticket(other, agent, assignee=agent)
    make_ticket(p, lead, assignee=lead)
    make_ticket(p, lead)  # unassigned
    desk["agent"].full_name = "Ada Agent"
    desk["agent"].save(update_fields=["full_name"])
    return desk


def test_staff_with_their_open_load_ordered_by_username(loads, as_user):
    response = as_user(loads["agent"]).get(URL)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["results"] == [
        {"username": "admin", "full_name": "", "role": "admin", "open_tickets": 0},
        {"username": "agent", "full_name": "Ada Agent", "role": "agent", "open_tickets": 2},
        {"username": "lead", "full_name": "", "role": "lead", "open_tickets": 1},
        {"username": "manager", "full_name": "", "role": "manager", "open_tickets": 0},
    ]
    assert (body["next"], body["previous"]) == (None, None)


def test_role_and_search_filters(loads, as_user):
    api = as_user(loads["lead"])
    only_agents = api.get(f"{URL}?role=agent").json()["results"]
    assert [(m["username"], m["open_tickets"]) for m in only_agents] == [("agent", 2)]
    two = api.get(f"{URL}?role=agent,lead").json()["results"]
    assert [m["username"] for m in two] == ["agent", "lead"]
    by_name = api.get(f"{URL}?q=ada").json()["results"]
    assert [m["username"] for m in by_name] == ["agent"]
    by_username = api.get(f"{URL}?q=MAN").json()["results"]
    assert [m["username"] for m in by_username] == ["manager"]
    bad = api.get(f"{URL}?role=customer")
    assert bad.status_code == 400
    assert bad.json()["error"]["details"]["fields"] == {
        "role": ["Unknown role(s) customer; expected any of agent, lead, manager, admin."]
    }


def test_inactive_people_and_customers_are_not_offered(loads, as_user):
    make_user("gone", project=loads["project"], role="agent", is_active=False)
    names = [m["username"] for m in as_user(loads["agent"]).get(URL).json()["results"]]
    assert "gone" not in names and "customer" not in names and "customer2" not in names
    assert names == ["admin", "agent", "lead", "manager"]


def test_customers_are_refused_and_outsiders_do_not_see_the_project(loads, as_user):
    refused = as_user(loads["customer"]).get(URL)
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "permission_denied")
    assert as_user(loads["outsider"]).get(URL).status_code == 404


def test_one_query_for_the_page_whatever_the_number_of_people_and_tickets(loads, as_user):
    api = as_user(loads["agent"])
    api.get(URL)  # warm per-connection state
    with CaptureQueriesContext(connection) as few:
        assert api.get(URL).status_code == 200
    for i in range(6):
        person = make_user(f"extra{i}", project=loads["project"], role="agent")
        make_ticket(loads["project"], loads["lead"], assignee=person)
    with CaptureQueriesContext(connection) as many:
        response = api.get(URL)
    assert len(response.json()["results"]) == 10
    assert [m["open_tickets"] for m in response.json()["results"] if m["username"] == "extra5"] == [
        1
    ]
    assert len(many.captured_queries) == len(few.captured_queries)
    page_queries = [q["sql"] for q in many.captured_queries if "tickets_membership" in q["sql"]]
    # The project's visibility check and the page itself; the load is a subquery of the page.
    assert len(page_queries) == 2, page_queries
    assert "tickets_ticket" in page_queries[-1]
