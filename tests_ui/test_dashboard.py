"""The dashboard shows the stats endpoint's figures, filtered by the URL; customers get "not found"."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from playwright.sync_api import expect

from tests_support.factories import make_user
from tests_ui.axe import serious_violations
from tests_ui.conftest import Desk, Team, screenshot, signed_in_page

pytestmark = [
    pytest.mark.live,
    pytest.mark.django_db(transaction=True),
    pytest.mark.timeout(300),
]


def api_stats(user: Any, query: str = "") -> dict[str, Any]:
    client = Client()
    client.force_login(user)
    response = client.get(f"/api/v1/stats/{query}")
    assert response.status_code == 200
    return response.json()


def test_the_dashboard_totals_match_the_api(desk: Desk, team: Team, new_context: Any) -> None:
    stats = api_stats(team.ann, "?project=DESK")
    assert stats["total_tickets"] == 6
    page = signed_in_page(new_context, desk, team.ann, "/dashboard?project=DESK")
    expect(page.get_by_role("heading", name="Dashboard", level=1)).to_be_visible()
    expect(page.get_by_test_id("Total tickets")).to_have_text(str(stats["total_tickets"]))
    expect(page.get_by_test_id("Open tickets")).to_have_text(str(stats["open_tickets"]))
    expect(page.get_by_test_id("Breached now")).to_have_text(str(stats["sla"]["breached"]))
    expect(page.get_by_test_id("Near breach now")).to_have_text(str(stats["sla"]["near_breach"]))
    filters = page.get_by_role("form", name="Filters")
    expect(filters.get_by_role("combobox", name="Project")).to_have_value("DESK")
    expect(page.get_by_role("figure", name="By priority")).to_be_visible()
    expect(page.get_by_role("figure", name="Created per day")).to_be_visible()
    assert serious_violations(page) == []
    screenshot(page, "dashboard")

    # A date range after every ticket: the URL keeps it and the totals follow the API.
    filters.get_by_label("From").fill("2099-01-01")
    expect(page).to_have_url(re.compile(r"created_after=2099-01-01"))
    later = api_stats(team.ann, "?project=DESK&created_after=2099-01-01")
    assert later["total_tickets"] == 0
    expect(page.get_by_test_id("Total tickets")).to_have_text("0")


def test_a_customer_is_shown_not_found_on_the_dashboard(
    desk: Desk, team: Team, new_context: Any
) -> None:
    carol = make_user("carol", project=team.project, role="customer", full_name="Carol Customer")
    page = signed_in_page(new_context, desk, carol, "/dashboard")
    expect(page.get_by_role("heading", name="Not found")).to_be_visible()
    expect(page.get_by_role("link", name="Dashboard")).to_have_count(0)
