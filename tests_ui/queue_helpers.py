"""The queue as the tests read it: open it signed in, the keys its table shows."""

from __future__ import annotations

from typing import Any

from django.test import Client
from playwright.sync_api import Page, expect

from tests_ui.conftest import Desk, signed_in_page


def open_queue(new_context: Any, desk: Desk, user: Any, path: str = "/tickets") -> Page:
    page = signed_in_page(new_context, desk, user, path)
    shown = page.get_by_role("table", name="Tickets").or_(page.get_by_text("No tickets match"))
    expect(shown.or_(page.get_by_text("Could not load tickets"))).to_be_visible()
    return page


def queue_keys(page: Page) -> list[str]:
    """The ticket keys of the table's rows, top to bottom (the first cell's link)."""
    rows = page.get_by_role("table", name="Tickets").locator("tbody").get_by_role("row")
    return [row.get_by_role("cell").first.get_by_role("link").inner_text() for row in rows.all()]


def expect_keys(page: Page, keys: list[str]) -> None:
    """Wait until the table shows exactly these keys, in this order."""
    links = page.get_by_role("table", name="Tickets").locator("tbody tr td:first-child a")
    expect(links).to_have_text(keys)


def api_keys(user: Any, query: str) -> list[str]:
    """What `GET tickets/?<query>` answers the same person (the queue's source of truth)."""
    client = Client()
    client.force_login(user)
    body = client.get(f"/api/v1/tickets/?page_size=200&{query}").json()
    return [t["key"] for t in body["results"]]
