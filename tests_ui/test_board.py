"""The live board in a real browser: pointer, keyboard and menu moves, each one PATCH and the
server's order afterwards; a refused move put back where the server says, with its message."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from playwright.sync_api import Page, Route, expect

from tests_support.live import wait_for
from tests_ui.board_helpers import card, drag, server_board, ui_board
from tests_ui.conftest import Desk, Team, open_board, screenshot
from tickets.services.moves import move_ticket

# The first test also starts the desk (gunicorn, uvicorn, Celery) on a busy shared machine.
pytestmark = [
    pytest.mark.live,
    pytest.mark.django_db(transaction=True),
    pytest.mark.timeout(300),
]

START = ["DESK-1", "DESK-2", "DESK-3", "DESK-4", "DESK-5", "DESK-6"]


def record_moves(page: Page) -> list[dict[str, Any]]:
    """The body of every move request the page sends."""
    sent: list[dict[str, Any]] = []
    page.on(
        "request",
        lambda r: sent.append(json.loads(r.post_data or "{}")) if "/move/" in r.url else None,
    )
    return sent


def in_column(page: Page, name: str) -> Any:
    return page.get_by_role("main").get_by_role("region", name=name).get_by_role("listitem")


def test_pointer_drag_to_another_column_is_one_move_and_sticks(
    desk: Desk, team: Team, new_context: Any
) -> None:
    page = open_board(new_context, desk, team.ann)
    sent = record_moves(page)
    with page.expect_response(re.compile(r"/move/$")) as response:
        drag(page, card(page, "DESK-2"), page.get_by_role("region", name="In Progress"))
    assert response.value.status == 200
    expect(in_column(page, "In Progress")).to_have_count(1)
    expect(in_column(page, "In Progress").first).to_have_accessible_name(re.compile("^DESK-2 "))
    assert len(sent) == 1
    assert {k: sent[0][k] for k in ("status", "before_id", "after_id")} == {
        "status": "in_progress",
        "before_id": None,
        "after_id": None,
    }
    assert sent[0]["client_mutation_id"]
    expected = {"To Do": [k for k in START if k != "DESK-2"], "In Progress": ["DESK-2"]}
    assert server_board(team.ann) == {"Waiting": [], "Review": [], "Done": [], **expected}
    assert ui_board(page) == server_board(team.ann)
    page.reload()
    expect(in_column(page, "In Progress")).to_have_count(1)
    assert ui_board(page) == server_board(team.ann)


def test_pointer_drag_within_a_column_sends_the_neighbours(
    desk: Desk, team: Team, new_context: Any
) -> None:
    page = open_board(new_context, desk, team.ann)
    sent = record_moves(page)
    with page.expect_response(re.compile(r"/move/$")) as response:
        drag(page, card(page, "DESK-1"), card(page, "DESK-3"))
    assert response.value.status == 200
    order = ["DESK-2", "DESK-3", "DESK-1", "DESK-4", "DESK-5", "DESK-6"]
    assert ui_board(page)["To Do"] == order
    ids = {t.key: t.pk for t in team.tickets} if hasattr(team.tickets[0], "key") else {}
    by_key = ids or {f"DESK-{t.number}": t.pk for t in team.tickets}
    assert {k: sent[0][k] for k in ("status", "before_id", "after_id")} == {
        "status": "new",
        "before_id": by_key["DESK-3"],
        "after_id": by_key["DESK-4"],
    }
    assert server_board(team.ann)["To Do"] == order


def test_keyboard_drag_lifts_moves_and_drops_with_announcements(
    desk: Desk, team: Team, new_context: Any
) -> None:
    page = open_board(new_context, desk, team.ann)
    body = card(page, "DESK-4")
    body.focus()
    page.keyboard.press("Space")
    live_region = page.locator("[id^=DndLiveRegion]")
    expect(live_region).to_contain_text(
        "Picked up DESK-4 Password reset loop, in To Do, position 4 of 6"
    )
    page.keyboard.press("ArrowRight")
    expect(live_region).to_contain_text("DESK-4 is over In Progress")
    with page.expect_response(re.compile(r"/move/$")) as response:
        page.keyboard.press("Space")
    assert response.value.status == 200
    expect(in_column(page, "In Progress")).to_have_count(1)
    assert server_board(team.ann)["In Progress"] == ["DESK-4"]
    # Escape cancels: nothing is sent and the card stays.
    sent = record_moves(page)
    card(page, "DESK-1").focus()
    page.keyboard.press("Space")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Escape")
    expect(live_region).to_contain_text("Moving DESK-1 cancelled")
    assert sent == []
    assert server_board(team.ann) == ui_board(page)


def test_the_move_control_moves_without_a_pointer(desk: Desk, team: Team, new_context: Any) -> None:
    page = open_board(new_context, desk, team.ann)
    page.get_by_role("button", name="Move DESK-5").click()
    with page.expect_response(re.compile(r"/move/$")):
        page.get_by_role("menuitem", name="To Done").click()
    expect(in_column(page, "Done")).to_have_count(1)
    page.get_by_role("button", name="Move DESK-6").click()
    with page.expect_response(re.compile(r"/move/$")):
        page.get_by_role("menuitem", name="To the top").click()
    expected = ["DESK-6", "DESK-1", "DESK-2", "DESK-3", "DESK-4"]
    expect(in_column(page, "To Do").first).to_have_accessible_name(re.compile("^DESK-6 "))
    assert server_board(team.ann)["To Do"] == expected
    assert server_board(team.ann)["Done"] == ["DESK-5"]
    assert ui_board(page) == server_board(team.ann)


def test_a_refused_move_goes_back_where_the_server_says_with_its_message(
    desk: Desk, team: Team, new_context: Any
) -> None:
    page = open_board(new_context, desk, team.ann)
    by_key = {f"DESK-{t.number}": t.pk for t in team.tickets}

    def colleague_moves_first(route: Route) -> None:
        # Bob moves DESK-3 to the top just before Ann's request lands: her neighbours are stale.
        move_ticket(
            actor=team.bob, ticket_id=by_key["DESK-3"], status_key="new", after_id=by_key["DESK-1"]
        )
        route.continue_()

    page.route(re.compile(r"/move/$"), colleague_moves_first)
    # Ann drops DESK-6 between DESK-2 and DESK-3 (onto DESK-3's place).
    with page.expect_response(re.compile(r"/move/$")) as response:
        drag(page, card(page, "DESK-6"), card(page, "DESK-3"))
    assert response.value.status == 409
    error = response.value.json()["error"]
    assert error["code"] == "stale_position"
    message = error["message"]
    expect(page.get_by_role("alert").filter(has_text=message)).to_be_visible()
    screenshot(page, "board-refused-move")
    # DESK-6 is back at the bottom of To Do (where the server keeps it); Bob's move is shown too.
    expect(in_column(page, "To Do").first).to_have_accessible_name(re.compile("^DESK-3 "))
    expect(in_column(page, "To Do").last).to_have_accessible_name(re.compile("^DESK-6 "))
    assert ui_board(page) == server_board(team.ann)
    assert server_board(team.ann)["To Do"] == [
        "DESK-3",
        "DESK-1",
        "DESK-2",
        "DESK-4",
        "DESK-5",
        "DESK-6",
    ]


def test_a_full_column_refuses_the_drop_before_any_request(
    desk: Desk, team: Team, new_context: Any
) -> None:
    from tickets.models import BoardColumn

    BoardColumn.objects.filter(project=team.project, name="Review").update(
        max_limit=0, enforce_wip=True
    )
    page = open_board(new_context, desk, team.ann)
    sent = record_moves(page)
    region = page.get_by_role("region", name="Review")
    drag(page, card(page, "DESK-1"), region, release=False)
    expect(region.get_by_text("WIP limit reached")).to_be_visible()
    screenshot(page, "board-wip-refusal")
    page.mouse.up()
    expect(page.get_by_role("alert").filter(has_text="Review is at its WIP limit")).to_be_visible()
    assert sent == []
    assert ui_board(page) == server_board(team.ann)


def test_phone_width_shows_one_column_at_a_time(desk: Desk, team: Team, new_context: Any) -> None:
    page = open_board(new_context, desk, team.ann)
    page.set_viewport_size({"width": 390, "height": 844})
    todo = page.get_by_role("region", name="To Do")
    doing = page.get_by_role("region", name="In Progress")
    expect(todo.get_by_role("listitem")).to_have_count(6)

    def across(region: Any) -> tuple[float, float]:
        box = region.bounding_box()
        assert box is not None
        return box["x"], box["x"] + box["width"]

    # The whole width of the first column on screen, the next one beside it showing at most its
    # edge (a hint that there is more).
    (left, right), (next_left, next_right) = across(todo), across(doing)
    assert left >= 0 and right <= 390 and right - left >= 300
    assert next_left >= right and 390 - next_left <= 0.1 * (next_right - next_left)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(page, "board-phone")
    # A swipe (the columns' own scroll) brings the next column in whole.
    page.locator(".columns").evaluate("el => el.scrollBy({left: el.clientWidth})")
    wait_for(lambda: across(doing)[0] >= 0 and across(doing)[1] <= 390, 30, "In Progress on screen")
    assert across(todo)[1] <= 0.1 * (right - left)  # To Do slid away (its edge at most)
