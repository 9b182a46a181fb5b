"""`manage.py export_tickets`: the operator's export, same bytes as a job, with a progress bar."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from exports.models import ExportJob
from exports.services import request_export, run_export
from exports.tests.bulk import bulk_tickets
from tests_support.factories import make_ticket
from tickets.models import AuditLog, Message


@pytest.mark.django_db(transaction=True)
def test_the_command_writes_what_an_agents_export_job_writes(
    desk: dict[str, Any], export_root: Path, tmp_path: Path
) -> None:
    bulk_tickets(desk["project"], 300, requester=desk["customer"])
    ticket = make_ticket(desk["project"], desk["agent"], title="@noted")
    Message.objects.create(ticket=ticket, author=desk["agent"], body="internal!", internal=True)
    job = request_export(actor=desk["agent"], project_key="DESK", format="csv", bom=True)
    assert run_export(export_id=job.pk) == "succeeded"
    job.refresh_from_db()
    out = tmp_path / "desk.csv"
    stderr = io.StringIO()
    call_command(
        "export_tickets",
        "--project=DESK",
        "--format=csv",
        "--bom",
        f"--as-of={job.as_of.isoformat()}",
        "-o",
        str(out),
        stderr=stderr,
    )
    assert out.read_bytes() == (export_root / job.file_key).read_bytes()
    report = stderr.getvalue()
    assert "301/301" in report  # tqdm's bar reached the total
    assert f"Wrote 301 tickets, {job.file_size} bytes, sha256 {job.checksum_sha256}" in report
    audit = AuditLog.objects.filter(action="export.requested", actor__isnull=True).get()
    assert audit.payload["new"]["source"] == "manage.py export_tickets"


@pytest.mark.django_db(transaction=True)
def test_the_command_filters_and_picks_fields(desk: dict[str, Any], tmp_path: Path) -> None:
    high = make_ticket(desk["project"], desk["agent"], title="hot", priority="high")
    make_ticket(desk["project"], desk["agent"], title="cold", priority="low")
    out = tmp_path / "high.jsonl"
    call_command(
        "export_tickets",
        "--project=DESK",
        "--format=jsonl",
        "--fields=id,title,public_messages",
        "--filter=priority=high",
        "--no-progress",
        f"--output={out}",
        stderr=io.StringIO(),
    )
    assert out.read_text() == f'{{"id":{high.pk},"title":"hot","public_messages":[]}}\n'
    assert not ExportJob.objects.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--project=NOPE"], "No project 'NOPE'."),
        (["--project=DESK", "--fields=id,password"], "Unknown or missing fields: password."),
        (["--project=DESK", "--filter=priority"], "--filter takes NAME=VALUE, got 'priority'."),
        (["--project=DESK", "--filter=assignee=me"], "'me' means nobody here"),
        (["--project=DESK", "--filter=priority=urgent"], "priority: Unknown value(s) urgent"),
        (["--project=DESK", "--format=jsonl", "--bom"], "bom is only supported for csv"),
    ],
)
@pytest.mark.django_db
def test_bad_arguments_are_refused(
    desk: dict[str, Any], tmp_path: Path, args: list[str], message: str
) -> None:
    with pytest.raises(CommandError, match=message.replace("(", r"\(").replace(")", r"\)")):
        call_command("export_tickets", *args, "-o", str(tmp_path / "x"), stderr=io.StringIO())
    assert not (tmp_path / "x").exists()
