"""`GET /api/v1/projects/{key}/events/?after=N`: replay over HTTP, resync, who may read it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from notifications.models import BoardEvent
from notifications.services import prune_board_events, record_board_event
from tests_support.factories import make_project, make_user

pytestmark = pytest.mark.django_db


def _events(project_id: int, n: int) -> None:
    for i in range(n):
        record_board_event(actor=None, project_id=project_id, type="ticket.updated", data={"id": i})


def _url(key: str = "DESK", **params: object) -> str:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return f"/api/v1/projects/{key}/events/" + (f"?{query}" if query else "")


def test_a_member_gets_the_events_after_their_seq(desk, as_user):
    _events(desk["project"].pk, 5)
    body = as_user(desk["agent"]).get(_url(after=2)).json()
    assert body["seq"] == 5
    assert body["has_more"] is False
    assert [e["seq"] for e in body["events"]] == [3, 4, 5]
    first = body["events"][0]
    assert set(first) == {"type", "seq", "data", "actor", "client_mutation_id", "created_at"}
    assert (first["actor"], first["client_mutation_id"]) == (None, None)  # system events
    assert first["type"] == "ticket.updated"
    assert first["data"] == {"id": 2}
    assert first["created_at"].endswith("Z")


def test_up_to_date_is_an_empty_list_and_a_fresh_board_is_seq_zero(desk, as_user):
    client = as_user(desk["lead"])
    assert client.get(_url(after=0)).json() == {"seq": 0, "events": [], "has_more": False}
    _events(desk["project"].pk, 2)
    assert client.get(_url(after=2)).json() == {"seq": 2, "events": [], "has_more": False}


def test_limit_pages_through_a_long_gap(desk, as_user):
    _events(desk["project"].pk, 7)
    client = as_user(desk["manager"])
    page = client.get(_url(after=1, limit=4)).json()
    assert [e["seq"] for e in page["events"]] == [2, 3, 4, 5]
    assert page["has_more"] is True and page["seq"] == 7
    page = client.get(_url(after=5, limit=4)).json()
    assert [e["seq"] for e in page["events"]] == [6, 7]
    assert page["has_more"] is False


def test_events_older_than_the_retained_history_need_a_resync(desk, as_user):
    project = desk["project"]
    _events(project.pk, 10)
    assert prune_board_events(older_than=timezone.now() - timedelta(days=1), keep_per_project=4)
    assert list(BoardEvent.objects.filter(project=project).values_list("seq", flat=True)) == [
        7,
        8,
        9,
        10,
    ]
    client = as_user(desk["agent"])
    gone = client.get(_url(after=5))
    assert gone.status_code == 410
    error = gone.json()["error"]
    assert error["code"] == "resync_required"
    assert error["details"]["seq"] == 10
    assert error["details"]["oldest"] == 7
    # The last pruned seq is still fine: nothing after it is missing.
    assert [e["seq"] for e in client.get(_url(after=6)).json()["events"]] == [7, 8, 9, 10]


def test_a_hole_in_the_middle_of_the_log_is_a_resync_too(desk, as_user):
    project = desk["project"]
    _events(project.pk, 5)
    BoardEvent.objects.filter(project=project, seq=3).delete()
    response = as_user(desk["agent"]).get(_url(after=1))
    assert response.status_code == 410
    assert response.json()["error"]["code"] == "resync_required"


def test_a_seq_from_the_future_needs_a_resync(desk, as_user):
    _events(desk["project"].pk, 3)
    response = as_user(desk["agent"]).get(_url(after=9))
    assert response.status_code == 410
    assert response.json()["error"]["details"] == {"seq": 3, "after": 9}


@pytest.mark.parametrize(
    "params",
    [{}, {"after": "x"}, {"after": -1}, {"after": 0, "limit": 0}, {"after": 0, "limit": 1001}],
)
def test_bad_parameters_are_validation_errors(desk, as_user, params):
    response = as_user(desk["agent"]).get(_url(**params))
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"


def test_outsiders_get_404_customers_403_anonymous_401(desk, as_user, api):
    _events(desk["project"].pk, 2)
    missing = as_user(desk["outsider"]).get(_url(after=0))
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"
    assert as_user(desk["outsider"]).get(_url("NOPE", after=0)).status_code == 404
    denied = as_user(desk["customer"]).get(_url(after=0))
    assert denied.status_code == 403
    assert denied.json()["error"]["code"] == "permission_denied"
    assert api.get(_url(after=0)).status_code == 401


def test_a_site_admin_reads_any_project_and_projects_do_not_mix(desk, as_user, site_admin):
    other = make_project("OPS")
    make_user("opsagent", project=other, role="agent")
    _events(desk["project"].pk, 3)
    _events(other.pk, 1)
    body = as_user(site_admin).get(_url("OPS", after=0)).json()
    assert body["seq"] == 1
    assert [e["data"] for e in body["events"]] == [{"id": 0}]
    assert as_user(desk["agent"]).get(_url("OPS", after=0)).status_code == 404


def test_the_endpoint_is_in_the_schema(api):
    schema = api.get("/api/schema/?format=json").json()
    operation = schema["paths"]["/api/v1/projects/{key}/events/"]["get"]
    assert {p["name"] for p in operation["parameters"]} >= {"key", "after", "limit"}
    assert "410" in operation["responses"]


def test_payloads_stay_small_and_internal_notes_write_no_event(desk, as_user):
    from tests_support.factories import make_ticket
    from tickets.services.conversation import add_message

    ticket = make_ticket(desk["project"], desk["customer"], description="secret printer details")
    seq = as_user(desk["agent"]).get(_url(after=0)).json()["seq"]
    add_message(actor=desk["agent"], ticket_id=ticket.pk, body="internal only", internal=True)
    assert as_user(desk["agent"]).get(_url(after=seq)).json()["events"] == []
    add_message(actor=desk["customer"], ticket_id=ticket.pk, body="public words")
    (commented,) = as_user(desk["agent"]).get(_url(after=seq)).json()["events"]
    assert commented["type"] == "ticket.commented"
    assert set(commented["data"]) == {"id", "key", "message_id"}
    assert "public words" not in str(commented["data"])
    created = as_user(desk["agent"]).get(_url(after=0)).json()["events"][0]
    assert created["type"] == "ticket.created"
    assert "description" not in created["data"]
    assert "secret" not in str(created["data"])
