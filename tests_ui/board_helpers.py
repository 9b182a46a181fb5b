"""What the board shows, read from the page and from the API, and a dnd-kit-friendly drag."""

from __future__ import annotations

from typing import Any

from django.test import Client
from playwright.sync_api import Locator, Page


def ui_board(page: Page) -> dict[str, list[str]]:
    """Column name -> the ticket keys its list shows, in order (from the accessible names)."""
    return page.evaluate(
        """() => Object.fromEntries([...document.querySelectorAll('main section[aria-labelledby]')]
            .map((region) => [
                document.getElementById(region.getAttribute('aria-labelledby')).textContent,
                [...region.querySelectorAll('li[aria-label]')].map((li) => li.getAttribute('aria-label').split(' ')[0]),
            ]))"""
    )


def server_board(user: Any, project: str = "DESK") -> dict[str, list[str]]:
    """The same shape from a fresh `GET board` (what a full reload would show)."""
    client = Client()
    client.force_login(user)
    board = client.get(f"/api/v1/projects/{project}/board/?limit=200").json()
    columns = sorted(board["columns"], key=lambda c: (c["order"], c["id"]))
    return {c["name"]: [t["key"] for t in c["tickets"]] for c in columns}


def card(page: Page, key: str) -> Locator:
    """The draggable body of a card (inside the list item named by the key)."""
    return page.locator(f'li[aria-label^="{key} "] .card')


def drag(page: Page, source: Locator, target: Locator, *, release: bool = True) -> None:
    """Pointer drag as dnd-kit's PointerSensor (distance 8) needs it: a small move first."""
    box = source.bounding_box()
    goal = target.bounding_box()
    assert box is not None and goal is not None
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 20, y, steps=5)
    page.mouse.move(goal["x"] + goal["width"] / 2, goal["y"] + goal["height"] / 2, steps=20)
    if release:
        page.mouse.up()
