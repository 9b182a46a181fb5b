"""Creating a ticket from the form with the triage chips' outcome: what the agent did with the
suggested category and priority (Apply / Dismiss) is recorded with the new ticket.

* `applied`: the field takes the suggested value (a different value sent with it is a 400);
* `dismissed`: the field keeps what the form sent, or the project's default, set explicitly;
* either way the field is explicit, so the background classifier never applies it afterwards;
* staff decisions become `ClassificationFeedback` rows (accepted when the final value is the
  suggestion), which the precision report and training read; a customer's are audited only
  (customers' picks are not labels, see docs/classification.md);
* one `ticket.triage` audit row with the suggestion and the decisions.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from config.api import InvalidInput
from tickets.audit import record_audit
from tickets.classification.service import FIELDS
from tickets.models import ClassificationFeedback, Priority, Project, Ticket
from tickets.permissions import is_staff_role, role_in
from tickets.services.tickets import create_ticket

DECISIONS = ("applied", "dismissed")
SOURCES = ("gemini", "local", "keywords")


def _field_error(field: str, message: str) -> InvalidInput:
    return InvalidInput(f"{field}: {message}", details={"fields": {field: [message]}})


def _default(project: Project, name: str) -> str:
    if name == "priority":
        return Priority.MEDIUM
    return "general" if "general" in project.categories else project.categories[0]


def _check(project: Project, triage: dict[str, Any]) -> dict[str, str]:
    if triage["suggested_category"] not in project.categories:
        raise _field_error("suggested_category", "Not one of the project's categories.")
    if triage["suggested_priority"] not in Priority.values:
        raise _field_error("suggested_priority", "Not a priority.")
    if triage["source"] not in SOURCES:
        raise _field_error("source", f"Expected one of {', '.join(SOURCES)}.")
    decisions = dict(triage.get("decisions") or {})
    for name, decision in decisions.items():
        if name not in FIELDS or decision not in DECISIONS:
            raise _field_error(
                "decisions", f"Expected {{category|priority: {'|'.join(DECISIONS)}}}."
            )
    return decisions


def create_ticket_with_triage(
    *, actor: Any, project: Project, triage: dict[str, Any], **fields: Any
) -> Ticket:
    """`create_ticket` with the form's triage decisions applied and recorded (one transaction)."""
    decisions = _check(project, triage)
    for name, decision in decisions.items():
        suggested = triage[f"suggested_{name}"]
        sent = fields.get(name)
        if decision == "applied":
            if sent is not None and sent != suggested:
                raise _field_error(
                    name, f"You applied the suggestion {suggested!r} but sent {sent!r}."
                )
            fields[name] = suggested
        elif sent is None:
            fields[name] = _default(project, name)
    with transaction.atomic():
        ticket = create_ticket(actor=actor, project=project, **fields)
        if is_staff_role(role_in(actor, project)):
            ClassificationFeedback.objects.bulk_create(
                ClassificationFeedback(
                    ticket=ticket,
                    field=name,
                    suggested=triage[f"suggested_{name}"],
                    final=getattr(ticket, name),
                    source=triage["source"],
                    model_version=str(triage.get("model_version") or "")[:80],
                    actor=actor,
                )
                for name in FIELDS
                if name in decisions
            )
        record_audit(
            actor=actor,
            action="ticket.triage",
            project_id=project.pk,
            ticket_id=ticket.pk,
            new={
                "suggested_category": triage["suggested_category"],
                "suggested_priority": triage["suggested_priority"],
                "confidence": triage.get("confidence"),
                "source": triage["source"],
                "model_version": str(triage.get("model_version") or "")[:80],
                "decisions": decisions,
            },
        )
    return ticket
