"""The inbox and the shell's bell: a colleague's action arrives live, mark all read zeroes it."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from notifications.models import Notification
from tests_ui.axe import serious_violations
from tests_ui.conftest import Desk, Team, screenshot, signed_in_page
from tickets.services.tickets import assign_ticket

pytestmark = [
    pytest.mark.live,
    pytest.mark.django_db(transaction=True),
    pytest.mark.timeout(300),
]


def test_a_colleagues_action_arrives_live_and_mark_all_read_zeroes_the_bell(
    desk: Desk, team: Team, new_context: Any
) -> None:
    assert Notification.objects.filter(user=team.ann).count() == 0
    page = signed_in_page(new_context, desk, team.ann, "/inbox")
    expect(page.get_by_role("heading", name="Inbox", level=1)).to_be_visible()
    expect(page.get_by_text("You have no notifications yet.")).to_be_visible()
    bell = page.get_by_role("link", name=re.compile(r"^Inbox, \d+ unread$"))
    expect(bell).to_have_accessible_name("Inbox, 0 unread")
    expect(page).to_have_title("Helpline")

    # The site admin assigns two of Ann's tickets to her: the page was not reloaded.
    for ticket in team.tickets[:2]:
        assign_ticket(actor=team.admin, ticket_id=ticket.pk, assignee=team.ann)
    items = page.get_by_role("list", name="Notifications").get_by_role("listitem")
    expect(items).to_have_count(2)
    expect(bell).to_have_accessible_name("Inbox, 2 unread")
    expect(page).to_have_title("(2) Helpline")
    assert Notification.objects.filter(user=team.ann, read_at__isnull=True).count() == 2
    first = Notification.objects.filter(user=team.ann).order_by("-created_at", "-id").first()
    assert first is not None
    expect(items.first).to_have_accessible_name(f"Unread: {first.title}")
    link = items.first.get_by_role("link", name=first.title)
    expect(link).to_have_attribute("href", f"/tickets/{team.tickets[1].key}")
    assert serious_violations(page) == []
    screenshot(page, "inbox")

    page.get_by_role("button", name="Mark all read").click()
    expect(bell).to_have_accessible_name("Inbox, 0 unread")
    expect(page).to_have_title("Helpline")
    expect(page.get_by_role("button", name=re.compile("^Mark read"))).to_have_count(0)
    assert Notification.objects.filter(user=team.ann, read_at__isnull=True).count() == 0
    expect(
        page.get_by_role("status").filter(has_text="2 notifications marked read")
    ).to_be_visible()
