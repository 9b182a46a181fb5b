"""Exports from the queue in a real browser: the job runs on the Celery worker, its progress and
download link arrive live, the file's rows are the queue's rows; /exports lists the jobs."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from exports.models import ExportJob
from tests_ui.axe import serious_violations
from tests_ui.conftest import Desk, Team, screenshot
from tests_ui.queue_helpers import expect_keys, open_queue, queue_keys
from tickets.models import Ticket

pytestmark = [
    pytest.mark.live,
    pytest.mark.django_db(transaction=True),
    pytest.mark.timeout(400),
]

WORKER = 90_000  # the export runs on a Celery worker of a loaded machine


def test_an_export_from_the_queue_downloads_the_queues_rows(
    desk: Desk, team: Team, new_context: Any
) -> None:
    Ticket.objects.filter(project=team.project, number__in=[1, 3, 4]).update(priority="high")
    page = open_queue(
        new_context, desk, team.ann, "/tickets?priority=high&q=printer,refund,password"
    )
    page.goto("/tickets?priority=high")
    expect_keys(page, ["DESK-4", "DESK-3", "DESK-1"])
    shown = queue_keys(page)

    page.get_by_role("button", name="Export CSV").click()
    link = page.get_by_role("link", name="Download CSV (3 rows)")
    expect(link).to_be_visible(timeout=WORKER)
    with page.expect_download() as info:
        link.click()
    text = Path(info.value.path()).read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert sorted(r["key"] for r in rows) == sorted(shown)
    assert {r["priority"] for r in rows} == {"high"}

    page.get_by_role("button", name="Export JSONL").click()
    jsonl = page.get_by_role("link", name="Download JSONL (3 rows)")
    expect(jsonl).to_be_visible(timeout=WORKER)
    with page.expect_download() as info:
        jsonl.click()
    lines = Path(info.value.path()).read_text(encoding="utf-8").splitlines()
    assert sorted(json.loads(line)["key"] for line in lines) == sorted(shown)
    job = ExportJob.objects.order_by("-id").first()
    assert job is not None and job.filters == {"priority": ["high"]}


def test_the_exports_page_lists_jobs_with_pages_and_links(
    desk: Desk, team: Team, new_context: Any
) -> None:
    page = open_queue(new_context, desk, team.ann, "/tickets?priority=medium")
    page.get_by_role("button", name="Export CSV").click()
    expect(page.get_by_role("link", name="Download CSV (6 rows)")).to_be_visible(timeout=WORKER)
    # More jobs than a page: 21 finished jobs of earlier days, made directly.
    done = ExportJob.objects.get()
    for _ in range(21):
        ExportJob.objects.create(
            project=done.project,
            requester=team.ann,
            format="jsonl",
            filters={},
            fields=done.fields,
            as_of=done.as_of,
            queued_at=done.queued_at,
            status="expired",
            rows_done=2,
            rows_total=2,
        )
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Exports").click()
    expect(page).to_have_url(re.compile(r"/exports$"))
    table = page.get_by_role("table", name="Export jobs")
    expect(table.locator("tbody tr")).to_have_count(20)
    page.get_by_role("button", name="Next").click()
    expect(table.locator("tbody tr")).to_have_count(2)
    expect(table.locator("tbody tr").last).to_contain_text("succeeded")
    expect(table.get_by_role("link", name="Download CSV (6 rows)")).to_be_visible()
    page.get_by_role("button", name="Previous").click()
    expect(table.locator("tbody tr")).to_have_count(20)
    assert serious_violations(page) == []


def test_the_exports_page_says_why_a_job_failed_and_passes_axe(
    desk: Desk, team: Team, new_context: Any
) -> None:
    page = open_queue(new_context, desk, team.ann)
    page.get_by_role("button", name="Export CSV").click()
    expect(page.get_by_role("link", name="Download CSV (6 rows)")).to_be_visible(timeout=WORKER)
    done = ExportJob.objects.get()
    ExportJob.objects.create(
        project=done.project,
        requester=team.ann,
        format="jsonl",
        filters={"priority": ["high"]},
        fields=done.fields,
        as_of=done.as_of,
        queued_at=done.queued_at,
        status="failed",
        error="Storage is full.",
        rows_done=0,
        rows_total=3,
    )
    page.goto("/exports")
    table = page.get_by_role("table", name="Export jobs")
    expect(table.locator("tbody tr")).to_have_count(2)
    expect(table).to_contain_text("Export failed: Storage is full.")
    assert serious_violations(page) == []
    screenshot(page, "exports")
