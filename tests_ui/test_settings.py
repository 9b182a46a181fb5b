"""The project settings page in a real browser: a project admin adds, renames, limits and reorders
board columns (the board then shows them so), sees the API's refusals next to the field or in the
dialog, adds and removes members; an agent gets the not-found page."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Locator, Page, expect

from tests_support.factories import make_user
from tests_ui.conftest import Desk, Team, screenshot, signed_in_page
from tickets.models import BoardColumn, Membership

# The first test also starts the desk (gunicorn, uvicorn, Celery) on a busy shared machine.
pytestmark = [
    pytest.mark.live,
    pytest.mark.django_db(transaction=True),
    pytest.mark.timeout(300),
]

DEFAULT = ["To Do", "In Progress", "Waiting", "Review", "Done"]


def open_settings(new_context: Any, desk: Desk, user: Any) -> Page:
    page = signed_in_page(new_context, desk, user, "/projects/DESK/settings")
    return page


def rows(page: Page) -> Locator:
    return page.get_by_role("list", name="Board columns").get_by_role("listitem")


def expect_rows(page: Page, names: list[str]) -> None:
    """The column rows, top to bottom, are named so."""
    expect(rows(page)).to_have_count(len(names))
    for index, name in enumerate(names):
        expect(rows(page).nth(index)).to_have_accessible_name(name)


def clean_screenshot(page: Page, name: str, top: Locator | None = None) -> None:
    """The page from its top (or from `top`), once the toasts have gone."""
    expect(page.locator(".toast")).to_have_count(0)
    if top is None:
        page.evaluate("window.scrollTo(0, 0)")
    else:
        top.evaluate("element => element.scrollIntoView({block: 'start'})")
    screenshot(page, name)


def server_columns() -> list[tuple[str, list[str], int | None, bool]]:
    return [
        (c.name, sorted(c.statuses.values_list("key", flat=True)), c.max_limit, c.enforce_wip)
        for c in BoardColumn.objects.filter(project__key="DESK").order_by("order", "id")
    ]


def test_an_admin_configures_columns_and_the_board_follows(
    desk: Desk, team: Team, new_context: Any
) -> None:
    ada = make_user("ada", project=team.project, role="admin", full_name="Ada Admin")
    page = open_settings(new_context, desk, ada)
    expect(page.get_by_role("heading", level=1)).to_have_text("Settings: Service Desk DESK")
    expect_rows(page, DEFAULT)

    # Free the Blocked status from In Progress, then give it a column of its own.
    page.get_by_role("button", name="Edit In Progress").click()
    edit = page.get_by_role("form", name="Edit In Progress")
    edit.get_by_role("checkbox", name="Blocked", exact=True).uncheck()
    edit.get_by_role("button", name="Save").click()
    expect(edit).to_have_count(0)
    expect(
        page.get_by_role("status").filter(has_text="Saved the column In Progress.")
    ).to_be_visible()

    # Taking a status that holds tickets off its column is refused in words, the form kept.
    page.get_by_role("button", name="Edit To Do").click()
    edit = page.get_by_role("form", name="Edit To Do")
    edit.get_by_role("checkbox", name="New", exact=True).uncheck()
    edit.get_by_role("button", name="Save").click()
    expect(edit.get_by_role("alert")).to_have_text(
        "Not saved: New still holds 6 tickets; move them to another column before taking New "
        "off To Do."
    )
    expect(edit.get_by_role("checkbox", name="New", exact=True)).not_to_be_checked()
    screenshot(page, "settings-held-status")
    edit.get_by_role("button", name="Cancel").click()
    expect(edit).to_have_count(0)
    expect_rows(page, DEFAULT)

    page.get_by_role("button", name="Add column").click()
    new = page.get_by_role("form", name="New column")
    new.get_by_label("Name").fill("Impeded")
    new.get_by_role("checkbox", name="Blocked", exact=True).check()
    expect(new.get_by_role("checkbox", name="In Review (in Review)")).to_be_disabled()
    new.get_by_role("button", name="Add column").click()
    expect(rows(page)).to_have_count(6)
    expect(rows(page).nth(5)).to_have_accessible_name("Impeded")

    # Rename it and give it a WIP range the API refuses: its message next to the field, the
    # typed values kept; then a valid maximum, enforced.
    page.get_by_role("button", name="Edit Impeded").click()
    edit = page.get_by_role("form", name="Edit Impeded")
    edit.get_by_label("Name").fill("Stuck")
    edit.get_by_label("WIP minimum").fill("3")
    edit.get_by_label("WIP maximum").fill("2")
    edit.get_by_role("button", name="Save").click()
    minimum = edit.get_by_label("WIP minimum")
    expect(minimum).to_have_accessible_description("The WIP minimum cannot exceed the maximum.")
    expect(minimum).to_have_attribute("aria-invalid", "true")
    expect(minimum).to_be_focused()
    expect(edit.get_by_label("Name")).to_have_value("Stuck")
    expect(edit.get_by_label("WIP maximum")).to_have_value("2")
    screenshot(page, "settings-refusal")
    minimum.fill("")
    edit.get_by_label("Enforce the maximum (refuse moves into a full column)").check()
    edit.get_by_role("button", name="Save").click()
    expect(rows(page).nth(5)).to_have_accessible_name("Stuck")
    expect(rows(page).nth(5)).to_contain_text("Blocked · 0 tickets · WIP ≤ 2 (enforced)")

    # Reorder without a pointer: twice the Move up button, once a keyboard drag of the handle.
    up = page.get_by_role("button", name="Move Stuck up")
    up.click()
    expect(rows(page).nth(4)).to_have_accessible_name("Stuck")
    expect(up).to_be_focused()
    up.click()
    expect(rows(page).nth(3)).to_have_accessible_name("Stuck")
    expect(up).to_have_attribute("aria-disabled", "false")
    handle = page.get_by_role("button", name="Drag Stuck")
    handle.focus()
    live_region = page.locator("[id^=DndLiveRegion]")
    page.keyboard.press("Space")
    expect(live_region).to_contain_text("Picked up Stuck, position 4 of 6.")
    page.keyboard.press("ArrowUp")
    expect(live_region).to_contain_text("Stuck is over position 3 of 6.")
    page.keyboard.press("Space")
    expect(live_region).to_contain_text("Stuck dropped at position 3 of 6.")
    order = ["To Do", "In Progress", "Stuck", "Waiting", "Review", "Done"]
    expect_rows(page, order)
    expect(up).to_have_attribute("aria-disabled", "false")  # the reorder has answered
    assert server_columns() == [
        ("To Do", ["new", "open", "todo"], None, False),
        ("In Progress", ["in_progress"], None, False),
        ("Stuck", ["blocked"], 2, True),
        ("Waiting", ["awaiting_customer", "awaiting_third_party"], None, False),
        ("Review", ["in_review"], None, False),
        ("Done", ["closed", "done", "resolved"], None, False),
    ]

    # A column that still holds tickets is not deleted: the API's refusal, in the dialog.
    page.get_by_role("button", name="Delete To Do").click()
    dialog = page.get_by_role("dialog", name="Delete the column To Do?")
    dialog.get_by_role("button", name="Delete column").click()
    expect(dialog.get_by_role("alert")).to_have_text(
        "To Do still holds 6 tickets; move them to another column before deleting it."
    )
    dialog.get_by_role("button", name="Cancel").click()
    expect(rows(page)).to_have_count(6)
    clean_screenshot(page, "settings")

    page.get_by_role("link", name="Open the board").click()
    regions = page.get_by_role("main").get_by_role("region")
    expect(regions).to_have_count(6)
    for index, name in enumerate(order):
        expect(regions.nth(index)).to_have_accessible_name(name)
    expect(page.get_by_role("region", name="Stuck")).to_contain_text("WIP ≤ 2")


def test_an_admin_adds_and_removes_members(desk: Desk, team: Team, new_context: Any) -> None:
    ada = make_user("ada", project=team.project, role="admin", full_name="Ada Admin")
    make_user("cara", full_name="Cara Carter")
    page = open_settings(new_context, desk, ada)
    # The user menu leads here for the project's admins.
    page.get_by_role("button", name="User menu: Ada Admin").click()
    expect(page.get_by_role("menuitem", name="DESK settings")).to_be_visible()
    page.keyboard.press("Escape")

    table = page.get_by_role("table", name="Members")
    names = table.locator("tbody tr td:first-child")
    expect(names).to_have_text(["Ada Admin", "Ann Agent", "Bob Builder", "Rita Root"])

    add = page.get_by_role("form", name="Add a member")
    add.get_by_label("Username").fill("nobody")
    add.get_by_role("button", name="Add member").click()
    username = add.get_by_label("Username")
    expect(username).to_have_accessible_description("No user 'nobody'.")
    expect(username).to_have_value("nobody")
    expect(username).to_be_focused()

    username.fill("cara")
    add.get_by_label("Role").select_option("lead")
    add.get_by_role("button", name="Add member").click()
    expect(names).to_have_text(
        ["Ada Admin", "Ann Agent", "Bob Builder", "Cara Carter", "Rita Root"]
    )
    expect(table.get_by_label("Role of Cara Carter")).to_have_value("lead")
    expect(username).to_have_value("")

    table.get_by_label("Role of Ann Agent").select_option("manager")
    expect(
        page.get_by_role("status").filter(has_text="Ann Agent is now a manager.")
    ).to_be_visible()

    table.get_by_role("button", name="Remove Bob Builder").click()
    dialog = page.get_by_role("dialog", name="Remove Bob Builder from DESK?")
    dialog.get_by_role("button", name="Remove").click()
    expect(dialog).to_have_count(0)
    expect(names).to_have_text(["Ada Admin", "Ann Agent", "Cara Carter", "Rita Root"])
    assert sorted(
        Membership.objects.filter(project=team.project).values_list("user__username", "role")
    ) == [("ada", "admin"), ("ann", "manager"), ("cara", "lead"), ("root", "admin")]
    clean_screenshot(page, "settings-members", page.get_by_role("heading", name="Members"))

    # A project keeps an admin: Rita steps down, then Ada, the last one, cannot.
    table.get_by_label("Role of Rita Root").select_option("lead")
    expect(page.get_by_role("status").filter(has_text="Rita Root is now a lead.")).to_be_visible()
    table.get_by_label("Role of Ada Admin").select_option("manager")
    expect(page.get_by_role("alert")).to_contain_text(
        "Could not change Ada Admin's role: "
        "DESK needs at least one admin: make someone else an admin first."
    )
    expect(table.get_by_label("Role of Ada Admin")).to_have_value("admin")
    assert Membership.objects.get(project=team.project, user=ada).role == "admin"
    screenshot(page, "settings-last-admin")


def test_an_agent_gets_not_found(desk: Desk, team: Team, new_context: Any) -> None:
    page = open_settings(new_context, desk, team.ann)
    expect(page.get_by_role("heading", name="Not found")).to_be_visible()
    expect(page.get_by_role("list", name="Board columns")).to_have_count(0)
    page.get_by_role("button", name="User menu: Ann Agent").click()
    expect(page.get_by_role("menuitem", name="Sign out")).to_be_visible()
    expect(page.get_by_role("menuitem", name="DESK settings")).to_have_count(0)
