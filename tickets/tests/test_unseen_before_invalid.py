"""Someone else's ticket is 404 on every write route, whatever the body: an invalid body must not
reveal (by a 400 about its fields) that the ticket exists. The ticket's own requester sending the
same body gets the 400: the positive control that the body really is invalid."""

from __future__ import annotations

import pytest

from tests_support.factories import make_ticket

pytestmark = pytest.mark.django_db

# (method, route, an invalid body)
ROUTES = [
    ("patch", "", {"priority": "urgent!"}),
    ("patch", "move/", {"before_id": "x"}),
    ("post", "assign/", {"assignee": 5}),
    ("post", "escalate/", {"reason": "x" * 5000}),
    ("post", "resolve/", {"status": "s" * 41}),
    ("post", "reopen/", {"reason": "r" * 501}),
    ("post", "messages/", {"body": ""}),
    ("post", "watch/", {"notify_email": "carrier pigeon"}),
    ("post", "attachments/", {}),  # no file (sent as multipart, the route's format)
]


@pytest.mark.parametrize("method,route,body", ROUTES, ids=[r[1] or "detail" for r in ROUTES])
def test_an_invalid_body_on_someone_elses_ticket_is_404(desk, as_user, method, route, body):
    ticket = make_ticket(desk["project"], desk["customer"], title="Mine")
    url = f"/api/v1/tickets/{ticket.pk}/{route}"
    form = "multipart" if route == "attachments/" else "json"
    theirs = getattr(as_user(desk["customer2"]), method)(url, body, format=form)
    assert (theirs.status_code, theirs.json()["error"]["code"]) == (404, "not_found")
    own = getattr(as_user(desk["agent"]), method)(url, body, format=form)
    assert (own.status_code, own.json()["error"]["code"]) == (400, "validation_error"), own.json()
