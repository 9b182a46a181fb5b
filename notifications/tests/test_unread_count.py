"""The bell's figure: `GET /api/v1/notifications/unread-count/`."""

from __future__ import annotations

import pytest

from notifications.models import Notification
from tests_support.factories import make_ticket
from tickets.models import Membership
from tickets.services.conversation import add_message

pytestmark = pytest.mark.django_db

URL = "/api/v1/notifications/unread-count/"


def mention(desk, username: str, times: int) -> None:
    ticket = make_ticket(desk["project"], desk["customer"])
    for i in range(times):
        add_message(actor=desk["lead"], ticket_id=ticket.pk, body=f"@{username} #{i}")


def test_counts_the_callers_unread_only_and_follows_reads(desk, as_user):
    mention(desk, "agent", 3)
    mention(desk, "manager", 2)
    api = as_user(desk["agent"])
    assert api.get(URL).json() == {"unread": 3}
    first = Notification.objects.filter(user=desk["agent"]).order_by("id").first()
    assert first is not None
    api.post(f"/api/v1/notifications/{first.pk}/read/")
    assert api.get(URL).json() == {"unread": 2}
    api.post("/api/v1/notifications/read-all/")
    assert api.get(URL).json() == {"unread": 0}
    assert as_user(desk["manager"]).get(URL).json() == {"unread": 2}


def test_hidden_notifications_are_not_counted(desk, as_user):
    mention(desk, "agent", 2)
    assert as_user(desk["agent"]).get(URL).json() == {"unread": 2}
    Membership.objects.filter(user=desk["agent"]).delete()
    assert as_user(desk["agent"]).get(URL).json() == {"unread": 0}


def test_needs_credentials(api, db):
    response = api.get(URL)
    assert (response.status_code, response.json()["error"]["code"]) == (401, "not_authenticated")
