"""Two people on one board: moves, presence and indicators live; a dropped socket catches up."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests_ui.board_helpers import card, drag, server_board, ui_board
from tests_ui.conftest import Desk, Team, open_board, screenshot
from tickets.services.moves import move_ticket

# The first test also starts the desk (gunicorn, uvicorn, Celery) on a busy shared machine.
pytestmark = [
    pytest.mark.live,
    pytest.mark.django_db(transaction=True),
    pytest.mark.timeout(300),
]


def test_two_people_see_each_others_moves_presence_and_indicators(
    desk: Desk, team: Team, new_context: Any
) -> None:
    ann = open_board(new_context, desk, team.ann)
    bob = open_board(new_context, desk, team.bob)
    for page in (ann, bob):
        viewing = page.get_by_role("list", name="Viewing now")
        expect(viewing.get_by_role("listitem", name="Ann Agent")).to_be_visible()
        expect(viewing.get_by_role("listitem", name="Bob Builder")).to_be_visible()

    # A move in Ann's browser shows in Bob's without a reload (how fast: bench/bench_ui.py; the
    # suite asserts no timings).
    ann.get_by_role("button", name="Move DESK-2").click()
    ann.get_by_role("menuitem", name="To Review").click()
    review = bob.get_by_role("main").get_by_role("region", name="Review")
    expect(review.get_by_role("listitem", name=re.compile("^DESK-2 "))).to_be_visible()

    # Ann holds DESK-3 mid-drag: Bob sees who is moving it.
    drag(ann, card(ann, "DESK-3"), ann.get_by_role("region", name="Waiting"), release=False)
    expect(bob.locator('li[aria-label^="DESK-3 "]')).to_contain_text("Ann Agent is moving")
    screenshot(bob, "board-colleague-moving")
    ann.keyboard.press("Escape")
    ann.mouse.up()
    expect(bob.locator('li[aria-label^="DESK-3 "]')).not_to_contain_text("is moving")

    # Ann opens DESK-4 (by its key, `o`: a click right after a cancelled drag raced dnd-kit's
    # click suppression on a loaded machine): Bob sees her editing it; her saved title reaches him.
    card(ann, "DESK-4").press("o")
    drawer = ann.get_by_role("dialog")
    expect(drawer.get_by_label("Title")).to_have_value("Password reset loop")
    expect(bob.locator('li[aria-label^="DESK-4 "]')).to_contain_text("Ann Agent is editing")
    screenshot(ann, "card-drawer")
    drawer.get_by_label("Title").fill("Password reset loops forever")
    drawer.get_by_label("Priority").select_option("high")
    drawer.get_by_role("button", name="Save").click()
    expect(ann.get_by_role("dialog")).to_have_count(0)
    expect(bob.locator('li[aria-label="DESK-4 Password reset loops forever"]')).to_be_visible()
    expect(bob.locator('li[aria-label^="DESK-4 "]')).not_to_contain_text("is editing")
    assert ui_board(ann) == ui_board(bob) == server_board(team.ann)


def test_a_dropped_socket_reconnects_replays_and_equals_a_fresh_load(
    desk: Desk, team: Team, new_context: Any, console: Any
) -> None:
    # Chromium logs each refused reconnection attempt; those are expected while the server is down.
    console.allowed.append("WebSocket connection to")
    page = open_board(new_context, desk, team.ann)
    by_key = {f"DESK-{t.number}": t.pk for t in team.tickets}
    desk.sockets.stop()
    try:
        expect(page.get_by_role("status").filter(has_text="Reconnecting")).to_be_visible()
        screenshot(page, "board-reconnecting")
        # What happens while Ann is away: two moves and a reorder she must catch up on.
        move_ticket(actor=team.bob, ticket_id=by_key["DESK-1"], status_key="in_progress")
        move_ticket(actor=team.bob, ticket_id=by_key["DESK-5"], status_key="done")
        move_ticket(
            actor=team.bob, ticket_id=by_key["DESK-6"], status_key="new", after_id=by_key["DESK-2"]
        )
    finally:
        desk.sockets.start()
    page.evaluate("window.dispatchEvent(new Event('online'))")
    expect(page.get_by_role("status").filter(has_text="Live")).to_be_visible()
    done = page.get_by_role("main").get_by_role("region", name="Done")
    expect(done.get_by_role("listitem", name=re.compile("^DESK-5 "))).to_be_visible()
    expected = server_board(team.ann)
    assert expected["To Do"] == ["DESK-6", "DESK-2", "DESK-3", "DESK-4"]
    assert ui_board(page) == expected
    page.reload()
    expect(page.get_by_role("status").filter(has_text="Live")).to_be_visible()
    assert ui_board(page) == expected
