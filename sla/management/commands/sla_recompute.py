"""Re-target open tickets to the current policies and calendars (after a change)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from sla.services.clocks import count_running_dues, open_ticket_ids, recompute_tickets
from tickets.models import Project


class Command(BaseCommand):
    help = "Recompute the SLA due instants of open tickets; reports how many changed."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--project", help="Only this project key.")
        parser.add_argument(
            "--dry-run", action="store_true", help="Report what would change, change nothing."
        )

    def handle(
        self, *args: Any, project: str | None = None, dry_run: bool = False, **options: Any
    ) -> None:
        project_id = None
        if project:
            found = Project.objects.filter(key=project).first()
            if found is None:
                raise CommandError(f"No project {project!r}.")
            project_id = found.pk
        now = timezone.now()
        with transaction.atomic():
            before = count_running_dues(project_id, now=now)
            result = recompute_tickets(ticket_ids=open_ticket_ids(project_id), now=now)
            after = count_running_dues(project_id, now=now)
            if dry_run:
                transaction.set_rollback(True)
        self.stdout.write(
            f"{'[dry run] ' if dry_run else ''}{result['checked']} open tickets checked; "
            f"due dates changed on {result['changed']}. "
            f"Running targets before: {before['first_response']} first response, "
            f"{before['resolution']} resolution, {before['overdue']} overdue; "
            f"after: {after['first_response']} first response, {after['resolution']} resolution, "
            f"{after['overdue']} overdue."
        )
