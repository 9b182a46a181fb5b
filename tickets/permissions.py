"""Who may do what: project roles, lowest first customer < agent < lead < manager < admin."""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import BasePermission

from config.api import Forbidden
from tickets.models import ROLE_RANK, Membership, Project, Role


def role_in(user: Any, project: Project | int) -> str | None:
    """The user's role in the project, `admin` for site admins, None when not a member."""
    if not user.is_authenticated or not user.is_active:
        return None
    if user.is_superuser:
        return Role.ADMIN
    project_id = project if isinstance(project, int) else project.pk
    return (
        Membership.objects.filter(user=user, project_id=project_id)
        .values_list("role", flat=True)
        .first()
    )


def has_role(user: Any, project: Project | int, minimum: str) -> bool:
    """True when the user holds `minimum` or a higher role in the project."""
    role = role_in(user, project)
    return role is not None and ROLE_RANK[role] >= ROLE_RANK[minimum]


def require_role(user: Any, project: Project | int, minimum: str, action: str) -> None:
    """Raise 403 unless the user holds `minimum` (callers check visibility first: unseen is 404)."""
    if not has_role(user, project, minimum):
        raise Forbidden(f"Your role in this project does not allow you to {action}.")


def is_staff_role(role: str | None) -> bool:
    """Agents and up see every ticket of the project and its internal notes."""
    return role is not None and ROLE_RANK[role] >= ROLE_RANK[Role.AGENT]


class IsSiteAdmin(BasePermission):
    """Site admins are Django superusers."""

    message = "Only site admins can do this."

    def has_permission(self, request: Any, view: Any) -> bool:
        return bool(request.user and request.user.is_authenticated and request.user.is_superuser)
