"""The customer portal: raise a ticket, read and answer the public conversation; internal notes,
the board and other customers' tickets never reach the customer."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Response, expect

from tests_support.factories import make_ticket, make_user
from tests_ui.axe import serious_violations
from tests_ui.conftest import Desk, Team, screenshot, sign_in_cookie
from tickets.models import Message, Ticket
from tickets.services.conversation import add_message

pytestmark = [
    pytest.mark.live,
    pytest.mark.django_db(transaction=True),
    pytest.mark.timeout(300),
]

NOTE = "Internal: customer is on the legacy plan, do not refund"


def test_a_customer_raises_a_ticket_answers_it_and_never_sees_internal_notes(
    desk: Desk, team: Team, new_context: Any
) -> None:
    carol = make_user("carol", project=team.project, role="customer", full_name="Carol Customer")
    dave = make_user("dave", project=team.project, role="customer", full_name="Dave Customer")
    daves = make_ticket(team.project, dave, title="Dave's private request")
    context = new_context()
    sign_in_cookie(context, desk, carol)
    page = context.new_page()
    bodies: list[str] = []

    def record(response: Response) -> None:
        api_call = "/api/" in response.url and response.request.resource_type in ("fetch", "xhr")
        if api_call and not 300 <= response.status < 400:  # a redirect has no body
            bodies.append(response.text())

    page.on("response", record)
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/portal$"))
    expect(page.get_by_text("You have not raised a ticket yet.")).to_be_visible()

    form = page.get_by_role("form", name="Raise a ticket")
    form.get_by_label("Title").fill("My invoice is wrong")
    form.get_by_label("Description").fill("The VAT on invoice 77 is 25% instead of 19%.")
    form.get_by_role("button", name="Raise ticket").click()
    mine = page.get_by_role("list", name="Your tickets").get_by_role("link")
    expect(mine).to_have_count(1)
    ticket = Ticket.objects.get(title="My invoice is wrong")
    assert ticket.requester_id == carol.pk
    expect(mine.first).to_have_text(f"{ticket.key} My invoice is wrong")
    expect(page.get_by_text("Dave's private request")).to_have_count(0)
    assert serious_violations(page) == []
    screenshot(page, "portal")

    # An agent answers publicly and leaves an internal note (the positive control: both exist).
    add_message(actor=team.ann, ticket_id=ticket.pk, body="We are checking invoice 77.")
    add_message(actor=team.ann, ticket_id=ticket.pk, body=NOTE, internal=True)
    assert Message.objects.filter(ticket=ticket, internal=True, body=NOTE).count() == 1

    mine.first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"{ticket.key} My invoice is wrong")
    messages = page.get_by_role("list", name="Messages").get_by_role("listitem")
    expect(messages).to_have_count(1)
    expect(messages.first).to_contain_text("We are checking invoice 77.")
    page.get_by_label("Your reply").fill("Thank you, the PDF is attached to my account.")
    page.get_by_role("button", name="Send reply").click()
    expect(messages).to_have_count(2)
    expect(messages.nth(1)).to_contain_text("Thank you, the PDF is attached to my account.")
    assert serious_violations(page) == []
    screenshot(page, "portal-ticket")
    page.reload()
    expect(messages).to_have_count(2)

    # Ann's public answer notified Carol: her inbox links to the portal, not the staff page.
    page.goto("/inbox")
    link = page.get_by_role("list", name="Notifications").get_by_role("link").first
    expect(link).to_have_attribute("href", f"/portal/tickets/{ticket.key}")

    assert NOTE not in page.content()
    assert bodies, "the page fetched nothing?"
    assert any("We are checking invoice 77." in b for b in bodies)
    assert not any(NOTE in b for b in bodies)
    assert not any("Dave's private request" in b for b in bodies)

    # The board and another customer's ticket: "not found".
    page.goto("/projects/DESK/board")
    expect(page.get_by_role("heading", name="Not found")).to_be_visible()
    page.goto(f"/portal/tickets/{daves.key}")
    expect(page.get_by_role("heading", name="Not found")).to_be_visible()
    assert not any("Dave's private request" in b for b in bodies)
