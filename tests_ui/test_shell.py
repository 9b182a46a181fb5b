"""Sign-in, the shell and sign-out in a real browser."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests_support.factories import PASSWORD
from tests_ui.conftest import Desk, Team, screenshot, signed_in_page
from tickets.api.signin import WRONG_CREDENTIALS

# The first test also starts the desk (gunicorn, uvicorn, Celery) on a busy shared machine.
pytestmark = [
    pytest.mark.live,
    pytest.mark.django_db(transaction=True),
    pytest.mark.timeout(300),
]


def test_a_deep_link_answers_the_app_and_the_board_shows_the_project(
    desk: Desk, team: Team, new_context: Any
) -> None:
    page = signed_in_page(new_context, desk, team.ann, "/projects/DESK/board")
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


def test_a_site_admin_finds_the_django_admin_and_unknown_pages_say_not_found(
    desk: Desk, team: Team, new_context: Any
) -> None:
    page = signed_in_page(new_context, desk, team.admin, "/")
    expect(page).to_have_url(re.compile(r"/projects/DESK/board$"))
    page.get_by_role("button", name=re.compile("^User menu")).click()
    expect(page.get_by_role("menuitem", name="Django admin")).to_have_attribute("href", "/admin/")
    page.keyboard.press("Escape")
    page.goto("/projects/NOPE/board")
    expect(page.get_by_role("heading", name="Not found")).to_be_visible()
    screenshot(page, "not-found")
    page.goto("/no/such/page")
    expect(page.get_by_role("heading", name="Not found")).to_be_visible()


def test_the_app_is_served_with_history_fallback_and_cached_assets(desk: Desk) -> None:
    import httpx

    index = httpx.get(f"{desk.url}/tickets/DESK-1")
    assert index.status_code == 200
    assert index.headers["cache-control"] == "no-cache"
    assert "csrftoken" in index.cookies
    asset = re.search(r'src="(/static/ui/assets/[^"]+\.js)"', index.text)
    assert asset is not None
    cached = httpx.get(f"{desk.url}{asset.group(1)}")
    assert cached.status_code == 200
    assert "immutable" in cached.headers["cache-control"]
    # The server's own paths are never the app.
    api = httpx.get(f"{desk.url}/api/v1/no-such-thing/")
    assert api.status_code == 404
    assert api.json()["error"]["code"] == "not_found"
    assert httpx.get(f"{desk.url}/healthz").json() == {"status": "ok"}
