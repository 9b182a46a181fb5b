"""The authorization matrix: each role x each endpoint, on its own project and on another one.

Expected statuses: something a user may not see is 404 (never 403); inside a project they can see,
a role too low for the action is 403.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests_support.factories import make_project, make_ticket, make_user

pytestmark = pytest.mark.django_db

ROLES = ["customer", "agent", "lead", "manager", "admin", "outsider"]


def expect(
    customer: int, agent: int, lead: int, manager: int, admin: int, outsider: int = 404
) -> dict[str, int]:
    return dict(zip(ROLES, [customer, agent, lead, manager, admin, outsider], strict=True))


# (name, method, url template, body, expected per role). {t} is a ticket the customer raised.
MATRIX: list[tuple[str, str, str, dict[str, Any] | None, dict[str, int]]] = [
    ("project", "get", "/api/v1/projects/DESK/", None, expect(200, 200, 200, 200, 200)),
    (
        "project-edit",
        "patch",
        "/api/v1/projects/DESK/",
        {"description": "x"},
        expect(403, 403, 403, 403, 200),
    ),
    ("members", "get", "/api/v1/projects/DESK/members/", None, expect(403, 200, 200, 200, 200)),
    (
        "member-add",
        "post",
        "/api/v1/projects/DESK/members/",
        {"username": "newbie", "role": "agent"},
        expect(403, 403, 403, 403, 201),
    ),
    ("columns", "get", "/api/v1/projects/DESK/columns/", None, expect(403, 200, 200, 200, 200)),
    (
        "column-add",
        "post",
        "/api/v1/projects/DESK/columns/",
        {"name": "Extra", "status_keys": []},
        expect(403, 403, 403, 403, 201),
    ),
    ("board", "get", "/api/v1/projects/DESK/board/", None, expect(403, 200, 200, 200, 200)),
    ("ticket", "get", "/api/v1/tickets/{t}/", None, expect(200, 200, 200, 200, 200)),
    (
        "ticket-edit",
        "patch",
        "/api/v1/tickets/{t}/",
        {"priority": "high"},
        expect(403, 200, 200, 200, 200),
    ),
    (
        "ticket-retitle",
        "patch",
        "/api/v1/tickets/{t}/",
        {"title": "mine"},
        expect(200, 200, 200, 200, 200),
    ),
    (
        "move",
        "patch",
        "/api/v1/tickets/{t}/move/",
        {"status": "open"},
        expect(403, 200, 200, 200, 200),
    ),
    (
        "assign-other",
        "post",
        "/api/v1/tickets/{t}/assign/",
        {"assignee": "manager"},
        expect(403, 403, 200, 200, 200),
    ),
    (
        "escalate",
        "post",
        "/api/v1/tickets/{t}/escalate/",
        {"reason": "x"},
        expect(403, 403, 200, 200, 200),
    ),
    (
        "acknowledge",
        "post",
        "/api/v1/tickets/{t}/acknowledge/",
        {},
        expect(403, 200, 200, 200, 200),
    ),
    ("messages", "get", "/api/v1/tickets/{t}/messages/", None, expect(200, 200, 200, 200, 200)),
    (
        "reply",
        "post",
        "/api/v1/tickets/{t}/messages/",
        {"body": "hi"},
        expect(201, 201, 201, 201, 201),
    ),
    (
        "note",
        "post",
        "/api/v1/tickets/{t}/messages/",
        {"body": "hi", "internal": True},
        expect(403, 201, 201, 201, 201),
    ),
    ("watch", "post", "/api/v1/tickets/{t}/watch/", {}, expect(200, 200, 200, 200, 200)),
    ("watchers", "get", "/api/v1/tickets/{t}/watchers/", None, expect(403, 200, 200, 200, 200)),
    ("audit", "get", "/api/v1/tickets/{t}/audit/", None, expect(403, 200, 200, 200, 200)),
    (
        "attachments",
        "get",
        "/api/v1/tickets/{t}/attachments/",
        None,
        expect(200, 200, 200, 200, 200),
    ),
    ("archive", "delete", "/api/v1/tickets/{t}/", None, expect(403, 204, 204, 204, 204)),
    ("stats", "get", "/api/v1/stats/?project=DESK", None, expect(200, 200, 200, 200, 200)),
    (
        "statuses-write",
        "post",
        "/api/v1/statuses/",
        {"key": "x", "name": "X", "category": "todo"},
        expect(403, 403, 403, 403, 403, outsider=403),
    ),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("case", MATRIX, ids=[c[0] for c in MATRIX])
def test_matrix_on_own_project(desk, as_user, role, case):
    name, method, url, body, expected = case
    make_user("newbie")
    ticket = make_ticket(desk["project"], desk["customer"])
    response = getattr(as_user(desk[role]), method)(url.format(t=ticket.pk), body, format="json")
    assert response.status_code == expected[role], (name, role, response.content)
    if response.status_code >= 400:
        assert (
            response.json()["error"]["code"]
            == {403: "permission_denied", 404: "not_found"}[response.status_code]
        )


TICKET_CASES = [c for c in MATRIX if "{t}" in c[2]]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("case", TICKET_CASES, ids=[c[0] for c in TICKET_CASES])
def test_matrix_on_another_project_is_always_404(desk, as_user, role, case):
    _, method, url, body, _ = case
    other = make_project("OTHER")
    ticket = make_ticket(other, make_user("stranger", project=other, role="agent"))
    response = getattr(as_user(desk[role]), method)(url.format(t=ticket.pk), body, format="json")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_another_customers_ticket_is_404_for_a_customer(desk, as_user):
    ticket = make_ticket(desk["project"], desk["customer2"])
    api = as_user(desk["customer"])
    for method, url in [
        ("get", "/api/v1/tickets/{t}/"),
        ("get", "/api/v1/tickets/{t}/messages/"),
        ("post", "/api/v1/tickets/{t}/watch/"),
        ("get", "/api/v1/tickets/{t}/attachments/"),
    ]:
        assert getattr(api, method)(url.format(t=ticket.pk), {}, format="json").status_code == 404


def test_unauthenticated_is_401_everywhere(api, desk):
    for url in [
        "/api/v1/projects/",
        "/api/v1/tickets/",
        "/api/v1/projects/DESK/board/",
        "/api/v1/stats/",
    ]:
        response = api.get(url)
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "not_authenticated"
