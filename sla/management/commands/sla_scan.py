"""One SLA scan pass, run here (delivery and escalations inline), with a summary."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand

from sla.services.escalations import process_escalations
from sla.services.outbox import relay_events
from sla.services.scan import run_scan


class Command(BaseCommand):
    help = "Run one SLA scan now: mark warnings and breaches, queue and process escalations."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--no-lock", action="store_true", help="Skip the Redis lock (the slot key still holds)."
        )
        parser.add_argument("--slot", type=int, default=None, help="Scan slot (default: now's).")
        parser.add_argument("--json", action="store_true", help="Print the summary as JSON.")

    def handle(
        self, *args: Any, no_lock: bool = False, slot: int | None = None, **options: Any
    ) -> None:
        result = run_scan(slot=slot, use_lock=not no_lock, dispatch=False)
        summary = result.summary()
        summary["delivered"] = relay_events(event_ids=result.event_ids) if result.event_ids else 0
        summary.update(
            process_escalations(escalation_ids=result.escalation_ids)
            if result.escalation_ids
            else {"escalated": 0, "skipped": 0}
        )
        if options.get("json"):
            self.stdout.write(json.dumps(summary, sort_keys=True))
            return
        if result.outcome != "done":
            self.stdout.write(f"scan skipped: {result.outcome} (slot {result.slot})")
            return
        self.stdout.write(
            f"scan slot {summary['slot']}: {summary['scanned']} due rows, {summary['warned']} warned, "
            f"{summary['breached']} breached, {summary['escalations']} escalations queued, "
            f"{summary['delivered']} delivered, {summary['escalated']} escalated, "
            f"{summary['skipped']} skipped, in {summary['seconds']:.3f}s"
        )
