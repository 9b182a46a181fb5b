"""One command registry in a real browser: the Ctrl+K palette (a ticket by key, a search, the
create dialog, navigation), the single keys (off in text fields, and off altogether when the person
says so), the "?" sheet made from the same registry, and the shell's project switcher."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests_support.factories import make_project
from tests_ui.conftest import Desk, Team, open_board, screenshot
from tests_ui.queue_helpers import expect_keys, open_queue
from tickets.models import Membership

pytestmark = [
    pytest.mark.live,
    pytest.mark.django_db(transaction=True),
    pytest.mark.timeout(300),
]

ALL = ["DESK-6", "DESK-5", "DESK-4", "DESK-3", "DESK-2", "DESK-1"]


def open_palette(page: Page) -> Any:
    page.keyboard.press("Control+k")
    palette = page.get_by_role("dialog", name="Command palette")
    expect(palette.get_by_role("combobox", name="Command")).to_be_focused()
    return palette


def option_titles(palette: Any) -> list[str]:
    return palette.get_by_role("option").locator(".palette-title").all_inner_texts()


def test_the_palette_goes_to_a_ticket_searches_creates_and_navigates(
    desk: Desk, team: Team, new_context: Any
) -> None:
    page = open_queue(new_context, desk, team.ann)
    expect_keys(page, ALL)

    # Ctrl+K works inside a text field too; Escape closes and focus returns there.
    search = page.get_by_role("searchbox", name="Search tickets")
    search.click()
    palette = open_palette(page)
    page.keyboard.press("Escape")
    expect(palette).to_have_count(0)
    expect(search).to_be_focused()

    # A ticket key: "Go to DESK-3" first, the search second; Enter takes the first.
    palette = open_palette(page)
    page.keyboard.type("desk-3")
    expect(palette.get_by_role("option")).to_have_count(2)
    assert option_titles(palette) == ["Go to DESK-3", "Search tickets for “desk-3”"]
    expect(palette.get_by_role("option", name="Go to DESK-3")).to_have_attribute(
        "aria-selected", "true"
    )
    screenshot(page, "palette")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/tickets/DESK-3$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("DESK-3 Refund for order 1182")

    # Words: the search, chosen with the arrow keys (Down then Up wraps around a single option).
    palette = open_palette(page)
    page.keyboard.type("printer")
    assert option_titles(palette) == ["Search tickets for “printer”"]
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/tickets\?q=printer$"))
    expect_keys(page, ["DESK-1"])
    expect(page.get_by_role("searchbox", name="Search tickets")).to_have_value("printer")

    # A registered command: New ticket opens the create dialog.
    palette = open_palette(page)
    page.keyboard.type("new")
    assert option_titles(palette) == ["Search tickets for “new”", "New ticket"]
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    expect(page.get_by_role("dialog", name="New ticket")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_have_count(0)

    # Navigation: the shell's own list (an agent's), then a click on an option.
    palette = open_palette(page)
    page.keyboard.type("go to")
    assert option_titles(palette) == [
        "Search tickets for “go to”",
        "Go to Board",
        "Go to Tickets",
        "Go to Exports",
        "Go to Dashboard",
        "Go to Inbox",
    ]
    palette.get_by_role("option", name="Go to Dashboard").click()
    expect(page).to_have_url(re.compile(r"/dashboard$"))
    switcher = page.get_by_role("banner").get_by_role("combobox", name="Project")
    expect(switcher.locator("option:checked")).to_have_text("Service Desk (DESK)")


def test_the_sheet_lists_the_keys_and_single_keys_turn_off_and_on(
    desk: Desk, team: Team, new_context: Any
) -> None:
    page = open_queue(new_context, desk, team.ann)
    expect_keys(page, ALL)
    create = page.get_by_role("dialog", name="New ticket")

    # `c` on the page opens the create dialog...
    page.keyboard.press("c")
    expect(create).to_be_visible()
    page.keyboard.press("Escape")
    expect(create).to_have_count(0)
    # ...and inside a text field it is just a letter.
    search = page.get_by_role("searchbox", name="Search tickets")
    search.click()
    page.keyboard.press("c")
    expect(search).to_have_value("c")
    expect(create).to_have_count(0)
    search.fill("")
    expect(page).to_have_url(re.compile(r"/tickets$"))
    page.get_by_role("heading", name="Tickets", level=1).click()

    # `?`: the sheet, from the same registry, grouped.
    page.keyboard.press("?")
    sheet = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(sheet).to_be_visible()
    rows = {
        row.locator("dt").inner_text(): row.locator("dd").inner_text()
        for row in sheet.locator("dl > div").all()
    }
    assert rows == {
        "Ctrl K": "Command palette",
        "?": "Keyboard shortcuts",
        "c": "New ticket",
        "/": "Search tickets",
        "j": "Next ticket",
        "k": "Previous ticket",
        "x": "Select or deselect the focused ticket",
        "Enter": "Open the focused ticket",
    }
    headings = sheet.get_by_role("heading", level=3)
    expect(headings).to_have_text(["General", "Queue"])
    toggle = sheet.get_by_role("checkbox", name="Single-key shortcuts")
    expect(toggle).to_be_checked()
    screenshot(page, "shortcuts")

    # Off: `c` and `j` do nothing; Ctrl+K, pressed after them, still opens the palette.
    toggle.uncheck()
    expect(
        sheet.get_by_text("Single keys are off; Ctrl K still opens the command palette.")
    ).to_be_visible()
    page.keyboard.press("Escape")
    expect(sheet).to_have_count(0)
    page.keyboard.press("c")
    page.keyboard.press("j")
    open_palette(page)
    expect(create).to_have_count(0)
    expect(page.locator("tbody tr:focus")).to_have_count(0)
    page.keyboard.press("Escape")

    # The setting outlives a reload; the user menu reaches the sheet when `?` is off.
    page.reload()
    expect_keys(page, ALL)
    page.keyboard.press("?")
    page.keyboard.press("c")
    open_palette(page)
    expect(page.get_by_role("dialog", name="Keyboard shortcuts")).to_have_count(0)
    expect(create).to_have_count(0)
    page.keyboard.press("Escape")
    page.get_by_role("button", name=re.compile("^User menu")).click()
    page.get_by_role("menuitem", name="Keyboard shortcuts").click()
    sheet = page.get_by_role("dialog", name="Keyboard shortcuts")
    toggle = sheet.get_by_role("checkbox", name="Single-key shortcuts")
    expect(toggle).not_to_be_checked()
    toggle.check()
    page.keyboard.press("Escape")
    expect(sheet).to_have_count(0)

    # On again: `c` opens the dialog.
    page.keyboard.press("c")
    expect(create).to_be_visible()


def test_the_switcher_shows_the_current_or_last_project(
    desk: Desk, team: Team, new_context: Any
) -> None:
    ops = make_project("OPS", name="Operations")
    Membership.objects.create(user=team.ann, project=ops, role="agent")
    page = open_queue(new_context, desk, team.ann)
    switcher = page.get_by_role("banner").get_by_role("combobox", name="Project")
    chosen = switcher.locator("option:checked")
    # Nothing chosen yet: the first project, never "Choose a project".
    expect(chosen).to_have_text("Service Desk (DESK)")
    expect(switcher.locator("option")).to_have_text(["Service Desk (DESK)", "Operations (OPS)"])

    switcher.select_option("OPS")
    expect(page).to_have_url(re.compile(r"/projects/OPS/board$"))
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Tickets").click()
    expect(page).to_have_url(re.compile(r"/tickets$"))
    expect(chosen).to_have_text("Operations (OPS)")  # the last one used
    page.goto("/dashboard")
    expect(chosen).to_have_text("Operations (OPS)")
    page.goto("/tickets?project=DESK")
    expect(chosen).to_have_text("Service Desk (DESK)")  # the page's filter
    page.goto("/dashboard")
    expect(chosen).to_have_text("Service Desk (DESK)")
    expect(
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Board", exact=True)
    ).to_have_attribute("href", "/projects/DESK/board")


def test_o_opens_the_focused_card_even_with_single_keys_off(
    desk: Desk, team: Team, new_context: Any
) -> None:
    page = open_board(new_context, desk, team.ann)
    page.evaluate("localStorage.setItem('helpline.singleKeyShortcuts', 'off')")
    page.reload()
    card = page.get_by_role("listitem", name=re.compile("^DESK-2 ")).locator(".card")
    card.focus()
    page.keyboard.press("c")  # a single key: off
    page.keyboard.press("o")  # the focused card's own key: on
    expect(page.get_by_role("dialog", name="DESK-2 VPN drops every hour")).to_be_visible()
    expect(page.get_by_role("dialog", name="New ticket")).to_have_count(0)
