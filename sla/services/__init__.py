"""The SLA engine's write path.

The ticket services call the hooks below inside their transactions, with the ticket row locked
(`tickets.services.tickets`, `.moves`, `.conversation`); the API, admin, tasks and commands call the rest.
"""

from sla.services.clocks import (
    first_response,
    recompute_tickets,
    retarget_ticket_sla,
    start_ticket_sla,
    status_changed,
    ticket_archived,
)
from sla.services.escalations import process_escalations
from sla.services.manual import acknowledge, escalate_manually
from sla.services.outbox import relay_events
from sla.services.policies import (
    create_calendar,
    create_default_policies,
    create_policy,
    delete_calendar,
    delete_policy,
    update_calendar,
    update_policy,
)
from sla.services.scan import run_scan

__all__ = [
    "acknowledge",
    "create_calendar",
    "create_default_policies",
    "create_policy",
    "delete_calendar",
    "delete_policy",
    "escalate_manually",
    "first_response",
    "process_escalations",
    "recompute_tickets",
    "relay_events",
    "retarget_ticket_sla",
    "run_scan",
    "start_ticket_sla",
    "status_changed",
    "ticket_archived",
    "update_calendar",
    "update_policy",
]
