"""Load the demo desk: a project, an admin, a lead, an agent and a customer, and a few dozen tickets.

Idempotent: a second run changes nothing. Credentials are printed (they are demo credentials; the
command refuses to run with DEBUG off unless --force is given).
"""

from __future__ import annotations

import random
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from tickets.models import Membership, Project, Ticket, User

DEMO_PASSWORD = "helpline-demo"  # noqa: S105 - printed demo credentials, DEBUG only
PEOPLE = [
    ("admin", "Ada Admin", "admin"),
    ("lead", "Lee Lead", "lead"),
    ("agent", "Alex Agent", "agent"),
    ("customer", "Casey Customer", "customer"),
]
SUBJECTS = [
    ("Invoice shows the wrong VAT rate", "billing", "high"),
    ("Refund for a duplicate charge", "billing", "medium"),
    ("Card declined at checkout", "billing", "high"),
    ("Cannot log in after password reset", "account", "high"),
    ("Please close my account", "account", "low"),
    ("Two-factor codes never arrive", "account", "critical"),
    ("Export button does nothing", "technical", "medium"),
    ("API returns 500 on large uploads", "technical", "critical"),
    ("Dashboard is slow since Monday", "technical", "high"),
    ("Where can I change my billing address?", "general", "low"),
    ("Feature request: dark mode", "general", "low"),
    ("Shipment stuck in customs", "general", "medium"),
]


class Command(BaseCommand):
    help = "Create the demo project, people and tickets (idempotent)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--tickets", type=int, default=36)
        parser.add_argument("--force", action="store_true", help="Allow with DEBUG off.")

    def handle(self, *args: Any, tickets: int = 36, force: bool = False, **options: Any) -> None:
        if not settings.DEBUG and not force:
            raise CommandError(
                "seed_demo creates users with a known password; use DEBUG=1 or --force."
            )
        from tickets.services.conversation import add_message
        from tickets.services.moves import move_ticket
        from tickets.services.projects import add_member, create_project
        from tickets.services.tickets import create_ticket

        with transaction.atomic():
            users = {}
            for username, full_name, _ in PEOPLE:
                user, created = User.objects.get_or_create(
                    username=username,
                    defaults={
                        "full_name": full_name,
                        "email": f"{username}@demo.helpline.local",
                        "is_superuser": username == "admin",
                        "is_staff": username == "admin",
                    },
                )
                if created:
                    user.set_password(DEMO_PASSWORD)
                    user.save()
                users[username] = user
            project = Project.objects.filter(key="DESK").first()
            if project is None:
                project = create_project(
                    actor=users["admin"],
                    key="DESK",
                    name="Customer Support Desk",
                    description="The demo support desk.",
                )
            for username, _, role in PEOPLE:
                if not Membership.objects.filter(project=project, user=users[username]).exists():
                    add_member(
                        actor=users["admin"], project=project, user=users[username], role=role
                    )
        existing = Ticket.objects.filter(project=project).count()
        rng = random.Random(42)
        statuses = ["new", "open", "in_progress", "awaiting_customer", "in_review", "resolved"]
        for i in range(existing, tickets):
            title, category, priority = SUBJECTS[i % len(SUBJECTS)]
            requester = users["customer"]
            ticket = create_ticket(
                actor=requester,
                project=project,
                title=title,
                description=f"Demo ticket {i + 1}: {title.lower()}. Please help.",
            )
            from tickets.services.tickets import update_ticket

            update_ticket(
                actor=users["lead"],
                ticket_id=ticket.pk,
                changes={"category": category, "priority": priority},
            )
            target = rng.choice(statuses)
            if target != "new":
                move_ticket(actor=users["agent"], ticket_id=ticket.pk, status_key=target)
            if i % 3 == 0:
                add_message(
                    actor=users["agent"],
                    ticket_id=ticket.pk,
                    body="Thanks, we are looking into it.",
                )
            if i % 4 == 0:
                add_message(
                    actor=users["agent"],
                    ticket_id=ticket.pk,
                    body="Checked the logs; see incident 42.",
                    internal=True,
                )
        count = Ticket.objects.filter(project=project).count()
        self.stdout.write(
            self.style.SUCCESS(f"Demo desk ready: project DESK with {count} tickets.")
        )
        self.stdout.write("Log in (password for all: " + DEMO_PASSWORD + "):")
        for username, full_name, role in PEOPLE:
            self.stdout.write(f"  {username:<9} {role:<9} {full_name}")
