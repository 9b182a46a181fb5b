"""Saved views: a named ticket-filter set per user, validated against the ticket filters."""

from __future__ import annotations

from typing import Any

import pytest

from saved_views.models import SavedView
from tests_support.factories import make_project, make_user

pytestmark = pytest.mark.django_db

URL = "/api/v1/saved-views/"


def create(api: Any, **body: Any) -> Any:
    return api.post(URL, {"name": "My open", **body}, format="json")


def test_create_from_a_query_string_normalises_it_and_returns_the_link(desk, as_user):
    response = create(
        as_user(desk["agent"]),
        query="status=new,open&priority=high&q=printer&assignee=me&ordering=-updated_at",
        project="DESK",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == {
        "id",
        "name",
        "project",
        "query",
        "query_string",
        "created_at",
        "updated_at",
    }
    assert body["name"] == "My open"
    assert body["project"] == "DESK"
    assert body["query"] == {
        "status": ["new", "open"],
        "priority": ["high"],
        "q": "printer",
        "assignee": "me",
        "ordering": "-updated_at",
    }
    assert body["query_string"] == (
        "status=new,open&priority=high&assignee=me&q=printer&ordering=-updated_at"
    )
    row = SavedView.objects.get(pk=body["id"])
    assert row.owner == desk["agent"]
    assert row.project == desk["project"]
    assert row.query == body["query"]


def test_create_from_a_filter_object(desk, as_user):
    response = create(
        as_user(desk["lead"]),
        name="Breached billing",
        query={"category": "billing", "sla_state": ["breached"], "archived": "all"},
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["project"] is None
    assert body["query"] == {"category": ["billing"], "sla_state": ["breached"], "archived": "all"}
    assert body["query_string"] == "category=billing&sla_state=breached&archived=all"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("priority=urgent", "priority"),
        ("ordering=title", "ordering"),
        ({"created_after": "yesterday"}, "created_after"),
        ("colour=red", "colour"),
        ({"page_size": "10"}, "page_size"),
    ],
)
def test_a_query_the_ticket_list_would_refuse_is_a_400_naming_the_field(
    desk, as_user, query, field
):
    response = create(as_user(desk["agent"]), query=query)
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert list(error["details"]["fields"]) == [field]
    assert SavedView.objects.count() == 0


def test_a_name_is_unique_per_owner_but_not_across_owners(desk, as_user):
    assert create(as_user(desk["agent"]), query="q=x").status_code == 201
    again = create(as_user(desk["agent"]), query="q=y")
    assert again.status_code == 400
    assert again.json()["error"]["details"]["fields"] == {
        "name": ["You already have a view named 'My open'."]
    }
    assert create(as_user(desk["lead"]), query="q=y").status_code == 201
    assert SavedView.objects.count() == 2


def test_each_user_lists_and_reaches_only_their_own(desk, as_user):
    mine = create(as_user(desk["agent"]), name="B", query="q=b").json()
    create(as_user(desk["agent"]), name="A", query="q=a", project="DESK")
    theirs = create(as_user(desk["lead"]), name="Lead's", query="q=c").json()
    listed = as_user(desk["agent"]).get(URL)
    assert listed.status_code == 200
    body = listed.json()
    assert [v["name"] for v in body["results"]] == ["A", "B"]
    assert body["next"] is None and body["previous"] is None
    agent = as_user(desk["agent"])
    assert agent.get(f"{URL}{mine['id']}/").json()["query"] == {"q": "b"}
    for method in ("get", "patch", "delete"):
        response = getattr(agent, method)(f"{URL}{theirs['id']}/", {"name": "x"}, format="json")
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"
    assert SavedView.objects.get(pk=theirs["id"]).name == "Lead's"


def test_list_by_project_includes_the_views_without_one(desk, as_user):
    other = make_project("OPS")
    agent = desk["agent"]
    from tickets.models import Membership

    Membership.objects.create(user=agent, project=other, role="agent")
    api = as_user(agent)
    create(api, name="Desk", query="q=a", project="DESK")
    create(api, name="Ops", query="q=a", project="OPS")
    create(api, name="Everywhere", query="q=a")
    names = [v["name"] for v in api.get(f"{URL}?project=DESK").json()["results"]]
    assert names == ["Desk", "Everywhere"]


def test_patch_renames_and_revalidates_and_delete_removes(desk, as_user):
    api = as_user(desk["agent"])
    view = create(api, query="q=a").json()
    renamed = api.patch(
        f"{URL}{view['id']}/", {"name": "Renamed", "query": "tag=vip&q=b"}, format="json"
    )
    assert renamed.status_code == 200, renamed.content
    assert renamed.json()["name"] == "Renamed"
    assert renamed.json()["query"] == {"tag": ["vip"], "q": "b"}
    assert renamed.json()["updated_at"] >= view["updated_at"]
    bad = api.patch(f"{URL}{view['id']}/", {"query": "status_category=later"}, format="json")
    assert bad.status_code == 400
    assert SavedView.objects.get(pk=view["id"]).query == {"tag": ["vip"], "q": "b"}
    detached = api.patch(f"{URL}{view['id']}/", {"project": None}, format="json")
    assert detached.json()["project"] is None
    assert api.delete(f"{URL}{view['id']}/").status_code == 204
    assert not SavedView.objects.filter(pk=view["id"]).exists()


def test_a_project_the_user_cannot_see_is_404(desk, as_user):
    make_project("HIDDEN")
    response = create(as_user(desk["agent"]), query="q=a", project="HIDDEN")
    assert response.status_code == 404
    assert SavedView.objects.count() == 0
    # Positive control: the same request for a project the user belongs to is created.
    assert create(as_user(desk["agent"]), query="q=a", project="DESK").status_code == 201


def test_a_saved_query_string_gives_the_same_list_as_the_queue(desk, as_user):
    from tests_support.factories import make_ticket

    make_ticket(desk["project"], desk["agent"], title="printer jam", priority="high")
    make_ticket(desk["project"], desk["agent"], title="printer toner", priority="low")
    make_ticket(desk["project"], desk["agent"], title="laptop", priority="high")
    api = as_user(desk["agent"])
    view = create(api, query="q=printer&priority=high").json()
    listed = api.get(f"/api/v1/tickets/?{view['query_string']}").json()["results"]
    assert [t["title"] for t in listed] == ["printer jam"]


def test_customers_have_saved_views_too_and_anonymous_is_401(api, desk, as_user):
    assert create(as_user(desk["customer"]), query="q=mine").status_code == 201
    assert api.get(URL).status_code == 401


def test_per_user_limit(desk, as_user, settings):
    settings.SAVED_VIEWS_PER_USER = 2
    api = as_user(desk["agent"])
    assert create(api, name="1", query="q=a").status_code == 201
    assert create(api, name="2", query="q=a").status_code == 201
    third = create(api, name="3", query="q=a")
    assert third.status_code == 400
    assert third.json()["error"]["message"] == "You can keep at most 2 saved views."
    assert SavedView.objects.count() == 2


def test_blank_name_is_refused(desk, as_user):
    response = create(as_user(desk["agent"]), name="  ", query="q=a")
    assert response.status_code == 400
    assert list(response.json()["error"]["details"]["fields"]) == ["name"]


def test_deleting_the_owner_deletes_their_views(desk, as_user):
    user = make_user("temp", project=desk["project"], role="agent")
    create(as_user(user), query="q=a")
    user.delete()
    assert SavedView.objects.count() == 0
