"""The ticket page in a real browser against a real desk: heading and tabs, reply and internal
note, drafts across a reload and a colleague's live change, status, assignment, resolve and
reopen, attachments, the SLA badge over time, not found, phone width, and an axe scan."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from tests_support.factories import make_ticket
from tests_ui.axe import serious_violations
from tests_ui.conftest import Desk, Team, screenshot, sign_in_cookie, signed_in_page
from tickets.models import Ticket

pytestmark = [
    pytest.mark.live,
    pytest.mark.django_db(transaction=True),
    # A shared 2-core machine: the desk starts and pages render slower than on a laptop.
    pytest.mark.timeout(300),
]


def open_ticket(new_context: Any, desk: Desk, user: Any, key: str = "DESK-1", **kw: Any) -> Page:
    page = signed_in_page(new_context, desk, user, f"/tickets/{key}", **kw)
    # The first page after the desk starts can take long on a loaded machine.
    page.wait_for_selector("main h1", timeout=60_000)
    return page


def composer(page: Page) -> Any:
    return page.get_by_role("form", name="Composer")


def test_heading_tabs_reply_and_labelled_internal_note(
    desk: Desk, team: Team, new_context: Any
) -> None:
    from tickets.services.conversation import add_message

    ticket = team.tickets[0]
    add_message(actor=team.bob, ticket_id=ticket.pk, body="Is it still smoking?")
    page = open_ticket(new_context, desk, team.ann)
    expect(page.get_by_role("heading", level=1)).to_have_text("DESK-1 Printer on fire")
    for name in ("Conversation", "Activity", "Attachments"):
        expect(page.get_by_role("tab", name=name)).to_be_visible()
    expect(page.get_by_role("tab", name="Conversation")).to_have_attribute("aria-selected", "true")
    messages = page.get_by_role("list", name="Messages").get_by_role("listitem")
    expect(messages).to_have_count(1)

    form = composer(page)
    expect(form.get_by_role("radio", name="Reply")).to_be_checked()
    form.get_by_role("textbox").fill("We are sending a technician.")
    form.get_by_role("button", name="Send reply").click()
    expect(messages).to_have_count(2)
    expect(messages.nth(1)).to_contain_text("We are sending a technician.")
    expect(messages.nth(1)).not_to_contain_text("Internal note")

    form.get_by_role("radio", name="Internal note").check()
    expect(form.get_by_role("button", name="Send reply")).to_have_count(0)
    form.get_by_role("textbox").fill("Third fire this month: replace the unit.")
    form.get_by_role("button", name="Add internal note").click()
    expect(messages).to_have_count(3)
    expect(messages.nth(2)).to_contain_text("Internal note")
    expect(messages.nth(2)).to_contain_text("Third fire this month")
    assert list(ticket.messages.order_by("id").values_list("internal", flat=True)) == [
        False,
        False,
        True,
    ]
    expect(page.get_by_role("status").filter(has_text="Live")).to_be_visible()
    screenshot(page, "ticket")
    assert serious_violations(page) == []

    page.get_by_role("tab", name="Activity").click()
    audit = page.get_by_role("list", name="Audit trail")
    expect(audit).to_contain_text("message.internal_added")
    expect(audit).to_contain_text("message.added")
    assert serious_violations(page) == []


def test_a_draft_survives_a_reload_and_a_colleagues_live_change(
    desk: Desk, team: Team, new_context: Any
) -> None:
    page = open_ticket(new_context, desk, team.ann)
    expect(page.get_by_role("status").filter(has_text="Live")).to_be_visible()
    box = composer(page).get_by_role("textbox")
    box.fill("Half-written answer about the toner")
    page.reload()
    expect(composer(page).get_by_role("textbox")).to_have_value(
        "Half-written answer about the toner"
    )
    expect(page.get_by_role("status").filter(has_text="Live")).to_be_visible()

    bob = open_ticket(new_context, desk, team.bob)
    expect(bob.get_by_role("heading", level=1)).to_have_text("DESK-1 Printer on fire")
    # Ann is typing: Bob sees it.
    expect(bob.get_by_text("Ann Agent is editing")).to_be_visible()
    bob.get_by_label("Priority").select_option("critical")
    expect(bob.get_by_label("Priority")).to_have_value("critical")

    # Ann's page follows without a reload; her draft stays.
    expect(page.get_by_label("Priority")).to_have_value("critical")
    expect(composer(page).get_by_role("textbox")).to_have_value(
        "Half-written answer about the toner"
    )
    assert Ticket.objects.get(pk=team.tickets[0].pk).priority == "critical"


def test_status_changes_only_through_allowed_transitions(
    desk: Desk, team: Team, new_context: Any
) -> None:
    project = team.project
    project.workflow = {"new": ["open", "in_progress"], "open": ["resolved", "new"]}
    project.save(update_fields=["workflow"])
    page = open_ticket(new_context, desk, team.ann)
    page.get_by_role("button", name=re.compile("^Status: New")).click()
    items = page.get_by_role("menuitem")
    expect(items).to_have_text(["Open", "In Progress"])
    items.filter(has_text="Open").click()
    expect(page.get_by_role("button", name=re.compile("^Status: Open"))).to_be_visible()
    assert Ticket.objects.get(pk=team.tickets[0].pk).status.key == "open"
    page.get_by_role("button", name=re.compile("^Status: Open")).click()
    expect(page.get_by_role("menuitem")).to_have_text(["New", "Resolved"])


def test_assign_shows_each_agents_open_load(desk: Desk, team: Team, new_context: Any) -> None:
    from tickets.services.tickets import assign_ticket

    for ticket in team.tickets[1:3]:
        assign_ticket(actor=team.admin, ticket_id=ticket.pk, assignee=team.bob)
    page = open_ticket(new_context, desk, team.admin)
    page.get_by_role("button", name="Assignee: Unassigned").click()
    bob = page.get_by_role("menuitem", name=re.compile("^Bob Builder"))
    expect(bob).to_have_text(re.compile(r"Bob Builder\s*2 open"))
    expect(page.get_by_role("menuitem", name=re.compile("^Ann Agent"))).to_have_text(
        re.compile(r"0 open")
    )
    bob.click()
    expect(page.get_by_role("button", name="Assignee: Bob Builder")).to_be_visible()
    assert Ticket.objects.get(pk=team.tickets[0].pk).assignee == team.bob
    page.get_by_role("button", name="Assignee: Bob Builder").click()
    expect(page.get_by_role("menuitem", name=re.compile("^Bob Builder"))).to_have_text(
        re.compile(r"3 open")
    )


def test_resolve_with_a_summary_then_reopen(desk: Desk, team: Team, new_context: Any) -> None:
    page = open_ticket(new_context, desk, team.ann)
    page.get_by_role("button", name="Resolve", exact=True).click()
    dialog = page.get_by_role("dialog", name="Resolve DESK-1")
    dialog.get_by_role("button", name="Resolve ticket").click()
    # The server's own words, next to the field.
    expect(dialog.get_by_text("Say how the ticket was resolved.")).to_be_visible()
    dialog.get_by_label("Resolution summary").fill("Replaced the fuser unit.")
    dialog.get_by_role("button", name="Resolve ticket").click()
    expect(dialog).to_have_count(0)
    expect(page.get_by_role("button", name=re.compile("^Status: Resolved"))).to_be_visible()
    expect(page.get_by_text("Replaced the fuser unit.")).to_be_visible()
    ticket = Ticket.objects.select_related("status").get(pk=team.tickets[0].pk)
    assert (ticket.status.key, ticket.resolution_summary) == (
        "resolved",
        "Replaced the fuser unit.",
    )

    page.get_by_role("button", name="Reopen").click()
    dialog = page.get_by_role("dialog", name="Reopen DESK-1")
    dialog.get_by_label("Reason").fill("It caught fire again.")
    dialog.get_by_role("button", name="Reopen ticket").click()
    expect(page.get_by_role("button", name=re.compile("^Status: Open"))).to_be_visible()
    expect(page.get_by_role("button", name="Resolve", exact=True)).to_be_visible()
    ticket.refresh_from_db()
    assert (ticket.status.key, ticket.reopened_count) == ("open", 1)


PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cfc0000003010100c9fe92ef0000000049454e44ae426082"
)


def test_attachments_refused_type_in_words_and_accepted_file_downloads(
    desk: Desk, team: Team, new_context: Any
) -> None:
    page = open_ticket(new_context, desk, team.ann)
    page.get_by_role("tab", name="Attachments").click()
    upload = page.get_by_label("Upload a file")
    upload.set_input_files(
        {"name": "setup.exe", "mimeType": "application/x-msdownload", "buffer": b"MZ" * 100}
    )
    alert = page.get_by_role("alert").filter(has_text="setup.exe was not uploaded")
    expect(alert).to_contain_text("are not accepted")
    expect(alert).to_contain_text("Accepted types: image/png")

    upload.set_input_files({"name": "smoke.png", "mimeType": "image/png", "buffer": PNG})
    link = page.get_by_role("list", name="Files").get_by_role("link", name="smoke.png")
    expect(link).to_be_visible()
    response = page.request.get(link.get_attribute("href") or "")
    assert (response.status, response.body()) == (200, PNG)
    page.get_by_role("button", name="Preview smoke.png").click()
    expect(page.get_by_role("img", name="Preview of smoke.png")).to_be_visible()
    assert list(team.tickets[0].attachments.values_list("filename", flat=True)) == ["smoke.png"]


def test_the_sla_badge_turns_from_near_breach_to_breached_as_time_passes(
    desk: Desk, team: Team, new_context: Any
) -> None:
    from sla.models import SlaPolicy
    from sla.tests.conftest import restart_at

    SlaPolicy.objects.filter(project=team.project, priority="critical").update(
        first_response_minutes=10, resolution_minutes=600, near_breach_ratio=0.5
    )
    ticket = make_ticket(team.project, team.ann, title="Server room is hot", priority="critical")
    now = timezone.now()
    # Created 8 minutes ago: first response due in 2 minutes, warned 3 minutes ago.
    restart_at(ticket, now - timedelta(minutes=8))
    context = new_context()
    sign_in_cookie(context, desk, team.ann)
    page = context.new_page()
    page.clock.install(time=now)
    page.goto("/tickets/DESK-7")
    badges = page.get_by_role("list", name="SLA metrics")
    first = badges.get_by_role("listitem").first
    expect(first).to_contain_text(re.compile(r"First response: Near breach, 1m left"))
    expect(badges.get_by_role("listitem").nth(1)).to_contain_text("Resolution: On track")
    # Live once the socket's hello is answered: the shared clock has taken the server's time, so
    # the jumps below move the page's clock alone (as time passing does).
    expect(page.get_by_role("status").filter(has_text="Live")).to_be_visible()
    page.clock.run_for("03:00")
    expect(first).to_contain_text(re.compile(r"First response: Breached, -1m"))
    page.clock.run_for("02:00")
    expect(first).to_contain_text("First response: Breached, -3m")


def test_an_unknown_or_invisible_key_shows_not_found(
    desk: Desk, team: Team, new_context: Any
) -> None:
    from tests_support.factories import make_project

    other = make_project("OPS")
    make_ticket(other, team.admin, title="Secret ops ticket")
    page = open_ticket(new_context, desk, team.ann, key="DESK-999")
    expect(page.get_by_role("heading", name="Not found")).to_be_visible()
    page.goto("/tickets/OPS-1")
    expect(page.get_by_role("heading", name="Not found")).to_be_visible()
    expect(page.get_by_text("Secret ops ticket")).to_have_count(0)


def test_phone_width_reflows_without_sideways_scrolling(
    desk: Desk, team: Team, new_context: Any
) -> None:
    page = open_ticket(new_context, desk, team.ann)
    page.set_viewport_size({"width": 390, "height": 844})
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    expect(composer(page).get_by_role("button", name="Send reply")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(page, "ticket-phone")
