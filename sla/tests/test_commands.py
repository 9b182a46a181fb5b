"""manage.py sla_scan and sla_recompute."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime

import pytest
from django.core.management import CommandError, call_command

from notifications.models import BoardEvent
from sla.models import SlaEscalation, SlaPolicy
from sla.tests.conftest import restart_at, state_of

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue().strip()


def test_sla_scan_runs_one_pass_with_delivery_and_escalations_inline(ticket_for):
    ticket = restart_at(ticket_for("critical"), T0).ticket
    summary = json.loads(run("sla_scan", "--json", "--no-lock"))
    assert {k: summary[k] for k in ("outcome", "scanned", "warned", "breached", "escalations")} == {
        "outcome": "done",
        "scanned": 1,
        "warned": 2,
        "breached": 2,
        "escalations": 2,
    }
    assert (summary["delivered"], summary["escalated"], summary["skipped"]) == (4, 2, 0)
    assert BoardEvent.objects.filter(ticket_id=ticket.pk, type="sla.breached").count() == 2
    assert set(SlaEscalation.objects.values_list("outcome", flat=True)) == {"escalated"}
    text = run("sla_scan", "--slot", "5")
    assert text.startswith("scan slot 5: 1 due rows, 0 warned, 0 breached, 2 escalations queued")
    assert run("sla_scan", "--slot", "5") == "scan skipped: duplicate_slot (slot 5)"


def test_sla_recompute_reports_changed_due_dates(ticket_for, desk):
    tickets = [ticket_for("critical") for _ in range(2)] + [ticket_for("low")]
    # Changed behind the services' back, as a restored backup or a raw SQL fix would.
    SlaPolicy.objects.filter(project=desk["project"], priority="critical").update(
        first_response_minutes=60, version=2
    )
    before = state_of(tickets[0]).fr_due_at
    dry = run("sla_recompute", "--project", "DESK", "--dry-run")
    assert dry.startswith("[dry run] 3 open tickets checked; due dates changed on 2.")
    assert state_of(tickets[0]).fr_due_at == before
    text = run("sla_recompute", "--project", "DESK")
    assert text.startswith("3 open tickets checked; due dates changed on 2.")
    assert "before: 3 first response, 3 resolution, 0 overdue" in text
    after = state_of(tickets[0]).fr_due_at
    assert before is not None and after is not None
    assert (after - before).total_seconds() == 1800
    assert state_of(tickets[0]).policy_version == 2
    assert run("sla_recompute").startswith("3 open tickets checked; due dates changed on 0.")
    with pytest.raises(CommandError):
        run("sla_recompute", "--project", "NOPE")
