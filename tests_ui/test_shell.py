"""Sign-in, the shell and sign-out in a real browser."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests_support.factories import PASSWORD
from tests_ui.conftest import Desk, Team, screenshot, sign_in_cookie
from tickets.api.signin import WRONG_CREDENTIALS

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]


def test_a_deep_link_answers_the_app_and_the_board_shows_the_project(
    desk: Desk, team: Team, new_context: Any
) -> None:
    context = new_context()
    sign_in_cookie(context, desk, team.ann)
    page = context.new_page()
    page.goto("/projects/DESK/board")
    main = page.get_by_role("main")
    expect(main.get_by_role("region", name="To Do")).to_be_visible()
    cards = main.get_by_role("region", name="To Do").get_by_role("listitem")
    expect(cards).to_have_count(6)
    expect(cards.first).to_have_accessible_name(re.compile(r"^DESK-1 Printer on fire"))
    expect(page.get_by_role("status").filter(has_text="Live")).to_be_visible()
    screenshot(page, "board")


def test_sign_in_lands_on_the_board_and_sign_out_returns_to_sign_in(
    desk: Desk, team: Team, new_context: Any
) -> None:
    page = new_context().new_page()
    page.goto("/projects/DESK/board")
    expect(page).to_have_url(re.compile(r"/login\?next="))
    page.get_by_label("Username").fill("ann")
    page.get_by_label("Password").fill(PASSWORD)
    screenshot(page, "login")
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/projects/DESK/board$"))
    expect(page.get_by_role("region", name="To Do")).to_be_visible()
    page.get_by_role("button", name=re.compile("^User menu")).click()
    expect(page.get_by_role("menuitem", name="Django admin")).to_have_count(0)
    page.get_by_role("menuitem", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/login"))
    page.goto("/projects/DESK/board")
    expect(page).to_have_url(re.compile(r"/login\?next="))


def test_a_wrong_password_says_so_in_an_alert(desk: Desk, team: Team, new_context: Any) -> None:
    page = new_context().new_page()
    page.goto("/login")
    page.get_by_label("Username").fill("ann")
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()
    alert = page.get_by_role("alert").filter(has_text=WRONG_CREDENTIALS)
    expect(alert).to_have_text(WRONG_CREDENTIALS)
    screenshot(page, "login-wrong-password")
    expect(page).to_have_url(re.compile(r"/login"))
