"""Small factories that go through the services, so test data is shaped like real data."""

from __future__ import annotations

from typing import Any

from tickets.models import Membership, Project, Ticket, User

PASSWORD = "correct-horse-battery"


def make_user(
    username: str, *, project: Project | None = None, role: str = "agent", **fields: Any
) -> User:
    user = User.objects.create_user(
        username=username, email=f"{username}@example.com", password=PASSWORD, **fields
    )
    if project is not None:
        Membership.objects.create(user=user, project=project, role=role)
    return user


def ensure_default_statuses() -> None:
    """Transactional tests flush every table, data-migration rows included: put the statuses back."""
    from tickets.models import Status

    if not Status.objects.filter(key="new").exists():
        from importlib import import_module

        from django.apps import apps

        import_module("tickets.migrations.0002_default_statuses").create(apps, None)


def make_project(key: str = "DESK", *, name: str | None = None) -> Project:
    from tickets.services.projects import create_project

    ensure_default_statuses()
    return create_project(actor=None, key=key, name=name or f"{key} project")


def make_ticket(project: Project, actor: User, **fields: Any) -> Ticket:
    from tickets.services.tickets import create_ticket

    fields.setdefault("title", "Printer on fire")
    return create_ticket(actor=actor, project=project, **fields)
