"""Reads, always scoped by what the user may see. Something not visible is simply not found (404)."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from config.api import NotFound
from tickets.models import Attachment, Membership, Message, Project, Role, Ticket

STAFF_ROLES = [Role.AGENT, Role.LEAD, Role.MANAGER, Role.ADMIN]


def visible_projects(user: Any) -> QuerySet[Project]:
    """Projects the user is a member of (all projects for site admins)."""
    if user.is_superuser:
        return Project.objects.all()
    return Project.objects.filter(memberships__user=user)


def get_visible_project(user: Any, key: str) -> Project:
    """The project by key, or NotFound when the user is not in it."""
    project = visible_projects(user).filter(key=key).first()
    if project is None:
        raise NotFound(f"No project {key!r} that you can see.")
    return project


def visible_tickets(user: Any) -> QuerySet[Ticket]:
    """Tickets of projects where the user is staff, plus their own tickets where they are a customer."""
    qs = Ticket.objects.all()
    if user.is_superuser:
        return qs
    staff_projects = Membership.objects.filter(user=user, role__in=STAFF_ROLES).values("project_id")
    customer_projects = Membership.objects.filter(user=user, role=Role.CUSTOMER).values(
        "project_id"
    )
    return qs.filter(
        Q(project_id__in=staff_projects)
        | (Q(project_id__in=customer_projects) & (Q(requester=user) | Q(created_by=user)))
    )


def get_visible_ticket(user: Any, ticket_id: Any, *, for_update: bool = False) -> Ticket:
    """The ticket by id, or NotFound when it does not exist or the user may not see it.

    With `for_update` the ticket row (only) is locked until the transaction ends.
    """
    try:
        pk = int(ticket_id)
    except (TypeError, ValueError):
        raise NotFound("No such ticket.") from None
    qs = visible_tickets(user).select_related("project", "status")
    if for_update:
        qs = qs.select_for_update(of=("self",))
    ticket = qs.filter(pk=pk).first()
    if ticket is None:
        raise NotFound("No such ticket.")
    return ticket


def visible_messages(user: Any, ticket: Ticket) -> QuerySet[Message]:
    """A ticket's messages; internal notes only for the project's staff."""
    from tickets.permissions import is_staff_role, role_in

    qs = ticket.messages.select_related("author")
    if not is_staff_role(role_in(user, ticket.project)):
        qs = qs.filter(internal=False)
    return qs


def visible_attachments(user: Any) -> QuerySet[Attachment]:
    """Attachments of tickets the user can see."""
    return Attachment.objects.filter(ticket__in=visible_tickets(user))
