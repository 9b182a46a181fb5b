"""axe-core (the npm package's own build, injected into the page) finds no serious or critical
violation on the sign-in page, the board and the project settings, in light and dark mode."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests_ui import axe
from tests_ui.conftest import Desk, Team, screenshot, sign_in_cookie, signed_in_page

# The first test also starts the desk (gunicorn, uvicorn, Celery) on a busy shared machine.
pytestmark = [
    pytest.mark.live,
    pytest.mark.django_db(transaction=True),
    pytest.mark.timeout(300),
]


@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
def test_sign_in_and_board_have_no_serious_violations(
    desk: Desk, team: Team, new_context: Any, dark: bool
) -> None:
    context = new_context(dark=dark)
    page = context.new_page()
    page.goto("/login")
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    assert axe.serious_violations(page) == []
    sign_in_cookie(context, desk, team.admin)
    page.goto("/projects/DESK/board")
    expect(page.get_by_role("status").filter(has_text="Live")).to_be_visible()
    expect(page.get_by_role("list", name="Viewing now").get_by_role("listitem")).to_have_count(1)
    assert axe.serious_violations(page) == []
    if dark:
        screenshot(page, "board-dark")


@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
def test_the_command_palette_and_the_shortcut_sheet_have_no_serious_violations(
    desk: Desk, team: Team, new_context: Any, dark: bool
) -> None:
    page = signed_in_page(new_context, desk, team.ann, "/tickets", dark=dark)
    expect(page.get_by_role("table", name="Tickets").locator("tbody tr")).to_have_count(6)
    page.keyboard.press("Control+k")
    palette = page.get_by_role("dialog", name="Command palette")
    palette.get_by_role("combobox", name="Command").fill("desk-2")
    expect(palette.get_by_role("option", name="Go to DESK-2")).to_be_visible()
    assert axe.serious_violations(page, "[role=dialog]") == []
    page.keyboard.press("Escape")
    page.keyboard.press("?")
    sheet = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(sheet.get_by_role("checkbox", name="Single-key shortcuts")).to_be_checked()
    assert axe.serious_violations(page, "[role=dialog]") == []
    sheet.get_by_role("checkbox", name="Single-key shortcuts").uncheck()
    assert axe.serious_violations(page, "[role=dialog]") == []  # the struck-out rows too
    if dark:
        screenshot(page, "shortcuts-dark")


@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
def test_project_settings_have_no_serious_violations(
    desk: Desk, team: Team, new_context: Any, dark: bool
) -> None:
    page = signed_in_page(new_context, desk, team.admin, "/projects/DESK/settings", dark=dark)
    expect(page.get_by_role("list", name="Board columns").get_by_role("listitem")).to_have_count(5)
    expect(page.get_by_role("table", name="Members")).to_be_visible()
    page.get_by_role("button", name="Edit Review").click()  # the column form too
    expect(page.get_by_role("form", name="Edit Review")).to_be_visible()
    assert axe.serious_violations(page) == []
    if dark:
        screenshot(page, "settings-dark")
