"""The queue /tickets in a real browser: filters and search in the URL, sorting, cursor pages,
saved views, bulk actions with per-item outcomes, the keyboard, and live marks."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests_support.factories import make_ticket
from tests_ui.axe import serious_violations
from tests_ui.conftest import Desk, Team, screenshot
from tests_ui.queue_helpers import api_keys, expect_keys, open_queue, queue_keys
from tickets.models import Status, Ticket
from tickets.services.tickets import update_ticket

pytestmark = [
    pytest.mark.live,
    pytest.mark.django_db(transaction=True),
    pytest.mark.timeout(400),
]

NEWEST_FIRST = ["DESK-6", "DESK-5", "DESK-4", "DESK-3", "DESK-2", "DESK-1"]


def set_priorities(team: Team, priorities: dict[int, str]) -> None:
    for number, priority in priorities.items():
        Ticket.objects.filter(project=team.project, number=number).update(priority=priority)


def test_filters_and_search_round_trip_through_the_url(
    desk: Desk, team: Team, new_context: Any
) -> None:
    set_priorities(team, {2: "high", 5: "high", 6: "critical"})
    # A deep link with the API's own query string works on a full page load.
    page = open_queue(new_context, desk, team.ann, "/tickets?status=new,open&q=printer")
    expect_keys(page, ["DESK-1"])
    expect(page.get_by_role("searchbox", name="Search tickets")).to_have_value("printer")
    assert api_keys(team.ann, "status=new,open&q=printer") == ["DESK-1"]

    # Typing in the search box puts q in the URL; a reload shows the same rows.
    page.goto("/tickets")
    expect_keys(page, NEWEST_FIRST)
    page.get_by_role("searchbox", name="Search tickets").fill("VPN")
    expect(page).to_have_url(re.compile(r"/tickets\?q=VPN$"))
    expect_keys(page, ["DESK-2"])
    page.reload()
    expect_keys(page, ["DESK-2"])
    expect(page.get_by_role("searchbox", name="Search tickets")).to_have_value("VPN")

    # A filter control writes the API's filter; clearing the search keeps it.
    page.get_by_role("searchbox", name="Search tickets").fill("")
    page.get_by_text("Priority: any").click()
    page.get_by_role("checkbox", name="high").check()
    expect(page).to_have_url(re.compile(r"/tickets\?priority=high$"))
    expect_keys(page, ["DESK-5", "DESK-2"])
    page.get_by_role("checkbox", name="critical").check()
    expect(page).to_have_url(re.compile(r"priority=high,critical$"))
    expect_keys(page, ["DESK-6", "DESK-5", "DESK-2"])
    assert queue_keys(page) == api_keys(team.ann, "priority=high,critical")
    screenshot(page, "queue-filtered")

    # No match: the empty state says so and clears the filters.
    page.goto("/tickets?priority=low&q=nothing-like-this")
    expect(page.get_by_text("No tickets match these filters")).to_be_visible()
    page.get_by_role("button", name="Clear filters").click()
    expect(page).to_have_url(re.compile(r"/tickets$"))
    expect_keys(page, NEWEST_FIRST)


def test_sorting_and_cursor_paging(desk: Desk, team: Team, new_context: Any) -> None:
    for n in range(7, 56):
        make_ticket(team.project, team.ann, title=f"Bulk ticket {n}")
    set_priorities(team, {3: "critical", 4: "high"})
    page = open_queue(new_context, desk, team.ann)
    keys = queue_keys(page)
    assert keys == [f"DESK-{n}" for n in range(55, 5, -1)]  # 50 a page, newest first

    page.get_by_role("button", name="Next").click()
    expect_keys(page, NEWEST_FIRST[1:])
    expect(page).to_have_url(re.compile(r"cursor="))
    page.reload()
    expect_keys(page, NEWEST_FIRST[1:])
    page.get_by_role("button", name="Previous").click()
    expect_keys(page, keys)

    page.get_by_label("Sort by").select_option(label="Priority, highest first")
    expect(page).to_have_url(re.compile(r"ordering=-priority"))
    expect(page.locator("tbody tr td:first-child a").nth(0)).to_have_text("DESK-3")
    expect(page.locator("tbody tr td:first-child a").nth(1)).to_have_text("DESK-4")
    expect(page.get_by_role("columnheader", name="Priority")).to_have_attribute(
        "aria-sort", "descending"
    )
    page.get_by_label("Sort by").select_option(label="Oldest first")
    expect(page.locator("tbody tr td:first-child a").first).to_have_text("DESK-1")
    page.get_by_label("Sort by").select_option(label="Next SLA breach")
    expect(page).to_have_url(re.compile(r"ordering=sla_due_at"))
    assert queue_keys(page) == api_keys(team.ann, "ordering=sla_due_at")[:50]


def test_a_saved_view_is_saved_reopened_shared_and_deleted(
    desk: Desk, team: Team, new_context: Any
) -> None:
    set_priorities(team, {2: "high", 5: "high"})
    page = open_queue(new_context, desk, team.ann, "/tickets?priority=high&ordering=created_at")
    expect_keys(page, ["DESK-2", "DESK-5"])
    page.get_by_text("Saved views", exact=True).click()
    page.get_by_label("View name").fill("Hot ones")
    page.get_by_role("button", name="Save current filters").click()
    view = page.get_by_role("list", name="Saved views").get_by_role("link", name="Hot ones")
    expect(view).to_have_attribute("href", "/tickets?ordering=created_at&priority=high")

    page.goto("/tickets")
    expect_keys(page, NEWEST_FIRST)
    page.get_by_text("Saved views", exact=True).click()
    page.get_by_role("link", name="Hot ones").click()
    expect(page).to_have_url(
        re.compile(
            r"/tickets\?(priority=high&ordering=created_at|ordering=created_at&priority=high)$"
        )
    )
    expect_keys(page, ["DESK-2", "DESK-5"])

    # The link is the share: Bob opening it sees his own tickets with those filters.
    bob = open_queue(new_context, desk, team.bob, "/tickets?ordering=created_at&priority=high")
    expect_keys(bob, ["DESK-2", "DESK-5"])

    page.get_by_text("Saved views", exact=True).click()
    page.get_by_role("button", name="Delete view Hot ones").click()
    expect(page.get_by_role("link", name="Hot ones")).to_have_count(0)


def test_a_bulk_action_with_one_item_refused_shows_both_outcomes(
    desk: Desk, team: Team, new_context: Any
) -> None:
    open_status = Status.objects.get(key="open")
    Ticket.objects.filter(project=team.project, number__in=[4, 5]).update(status=open_status)
    # The workflow lets "new" go only to "open": DESK-6 (new) is refused, DESK-5 and -4 move.
    team.project.workflow = {"new": ["open"]}
    team.project.save(update_fields=["workflow"])
    page = open_queue(new_context, desk, team.admin)
    rows = page.locator("tbody tr")
    rows.nth(0).get_by_role("checkbox").click()
    rows.nth(2).get_by_role("checkbox").click(modifiers=["Shift"])
    expect(page.get_by_text("3 selected")).to_be_visible()
    for n in (6, 5, 4):
        expect(page.get_by_role("checkbox", name=f"Select DESK-{n}")).to_be_checked()
    page.get_by_label("Action", exact=True).select_option(label="Set status")
    page.get_by_label("Value", exact=True).select_option(label="In Progress")
    page.get_by_role("button", name="Apply to 3").click()
    outcome = page.get_by_role("group", name="Bulk actions").get_by_role("status")
    expect(outcome).to_have_text(re.compile(r"^2 updated, 1 failed: DESK-6: .+"))
    screenshot(page, "queue-bulk-outcome")
    statuses = dict(
        Ticket.objects.filter(project=team.project).values_list("number", "status__key")
    )
    assert (statuses[4], statuses[5], statuses[6]) == ("in_progress", "in_progress", "new")
    expect(page.locator("tbody tr").nth(1)).to_contain_text("In Progress")


def test_j_k_x_and_enter_work_and_are_off_in_the_search_box(
    desk: Desk, team: Team, new_context: Any
) -> None:
    page = open_queue(new_context, desk, team.ann)
    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("k")
    row = page.locator("tbody tr").nth(0)
    expect(row).to_be_focused()
    page.keyboard.press("j")
    page.keyboard.press("x")
    expect(page.get_by_role("checkbox", name="Select DESK-5")).to_be_checked()
    expect(page.get_by_text("1 selected")).to_be_visible()

    search = page.get_by_role("searchbox", name="Search tickets")
    search.click()
    page.keyboard.type("jx")
    expect(search).to_have_value("jx")
    expect(page.get_by_text("1 selected")).to_be_visible()
    search.fill("")
    expect(page).to_have_url(re.compile(r"/tickets$"))

    page.locator("tbody tr").nth(1).focus()
    page.keyboard.press("j")
    expect(page.locator("tbody tr").nth(2)).to_be_focused()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/tickets/DESK-4$"))


def test_a_colleagues_change_marks_the_row_and_show_refetches(
    desk: Desk, team: Team, new_context: Any
) -> None:
    page = open_queue(new_context, desk, team.ann)
    expect(page.get_by_role("status").filter(has_text="Live")).to_be_visible()
    update_ticket(actor=team.bob, ticket_id=team.tickets[2].pk, changes={"priority": "critical"})
    marker = page.get_by_role("button", name="1 updated - show")
    expect(marker).to_be_visible()
    row = page.locator("tbody tr").filter(has=page.get_by_role("link", name="DESK-3"))
    expect(row).to_contain_text("Updated")
    expect(row).to_contain_text("medium")  # not refetched under the pointer
    assert queue_keys(page) == NEWEST_FIRST
    screenshot(page, "queue-live-marker")
    marker.click()
    expect(row).to_contain_text("critical")
    expect(row).not_to_contain_text("Updated")
    expect(page.get_by_role("button", name=re.compile("updated - show"))).to_have_count(0)


@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
def test_the_queue_has_no_serious_accessibility_violations(
    desk: Desk, team: Team, new_context: Any, dark: bool
) -> None:
    set_priorities(team, {2: "high", 6: "critical"})
    context = new_context(dark=dark)
    from tests_ui.conftest import sign_in_cookie

    sign_in_cookie(context, desk, team.admin)
    page = context.new_page()
    page.goto("/tickets")
    expect_keys(page, NEWEST_FIRST)
    page.locator("tbody tr").nth(1).get_by_role("checkbox").click()
    assert serious_violations(page) == []
    if not dark:
        screenshot(page, "queue")


def test_a_refused_filter_says_why_and_offers_retry_and_clear(
    desk: Desk, team: Team, new_context: Any
) -> None:
    page = open_queue(new_context, desk, team.ann, "/tickets?created_after=last-tuesday")
    alert = page.get_by_role("alert").filter(has_text="Could not load tickets")
    expect(alert).to_contain_text("created_after")
    expect(alert.get_by_role("button", name="Retry")).to_be_visible()
    page.get_by_role("button", name="Clear filters").click()
    expect(page).to_have_url(re.compile(r"/tickets$"))
    expect_keys(page, NEWEST_FIRST)
