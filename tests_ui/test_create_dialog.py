"""The create dialog in a real browser: opened with `c` from anywhere, triage chips after the
description loses focus (Apply fills the fields), field errors next to their fields, the new
ticket page on success; an axe scan of the dialog."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests_ui.axe import serious_violations
from tests_ui.conftest import Desk, Team, screenshot, signed_in_page
from tickets.models import AuditLog, Ticket

pytestmark = [
    pytest.mark.live,
    pytest.mark.django_db(transaction=True),
    pytest.mark.timeout(300),
]


def test_triage_chips_apply_field_errors_then_the_new_ticket(
    desk: Desk, team: Team, new_context: Any
) -> None:
    page = signed_in_page(new_context, desk, team.ann, "/tickets/DESK-2")
    expect(page.get_by_role("heading", level=1)).to_have_text("DESK-2 VPN drops every hour")
    # `c` types into a text field...
    page.get_by_role("form", name="Composer").get_by_role("textbox").press("c")
    expect(page.get_by_role("dialog")).to_have_count(0)
    # ...and opens the dialog anywhere else.
    page.get_by_role("heading", level=1).click()
    page.keyboard.press("c")
    dialog = page.get_by_role("dialog", name="New ticket")
    expect(dialog).to_be_visible()

    dialog.get_by_label("Description").fill(
        "The invoice charged me twice, I need a refund of the duplicate payment."
    )
    dialog.get_by_label("Tags (comma separated)").focus()  # the description loses focus
    chips = dialog.get_by_role("list", name="Suggestions")
    category_chip = chips.get_by_role("listitem").filter(has_text="Suggested category")
    priority_chip = chips.get_by_role("listitem").filter(has_text="Suggested priority")
    expect(category_chip).to_contain_text(
        re.compile(r"\d+% confidence · (Gemini|local model|keyword rules)")
    )
    expect(priority_chip).to_be_visible()
    suggested_category = category_chip.locator("strong").inner_text()
    suggested_priority = priority_chip.locator("strong").inner_text()
    screenshot(page, "create")
    assert serious_violations(page, "[role=dialog]") == []

    category_chip.get_by_role("button", name=re.compile("^Apply")).click()
    priority_chip.get_by_role("button", name=re.compile("^Apply")).click()
    expect(dialog.get_by_label("Category")).to_have_value(suggested_category)
    expect(dialog.get_by_label("Priority")).to_have_value(suggested_priority)
    expect(chips).to_have_count(0)

    # No title, an unknown requester: each error next to its field, in the API's words.
    dialog.get_by_label("Requester (username)").fill("nobody-here")
    dialog.get_by_role("button", name="Create ticket").click()
    title = dialog.get_by_label("Title")
    expect(title).to_have_attribute("aria-invalid", "true")
    title_error = page.locator("#new-title-error")
    expect(title_error).to_have_text(re.compile(r"\w"))
    expect(page.locator("#new-requester-error")).to_have_text(re.compile(r"\w"))
    assert Ticket.objects.count() == 6

    title.fill("Charged twice for order 1190")
    dialog.get_by_label("Requester (username)").fill("bob")
    dialog.get_by_role("button", name="Create ticket").click()
    expect(page).to_have_url(re.compile(r"/tickets/DESK-7$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("DESK-7 Charged twice for order 1190")
    ticket = Ticket.objects.get(number=7, project=team.project)
    assert (ticket.category, ticket.priority, ticket.requester) == (
        suggested_category,
        suggested_priority,
        team.bob,
    )
    triage = AuditLog.objects.get(ticket_id=ticket.pk, action="ticket.triage")
    assert triage.payload["new"]["decisions"] == {"category": "applied", "priority": "applied"}
