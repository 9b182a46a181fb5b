"""Writes for people: create and change users (site admins)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from rest_framework.authtoken.models import Token

from config.api import DomainError
from tickets.audit import record_audit
from tickets.models import User


def create_user(
    *, actor: Any, username: str, password: str, email: str = "", full_name: str = ""
) -> User:
    """Create a person (site admins)."""
    with transaction.atomic():
        if User.objects.filter(username__iexact=username).exists():
            raise DomainError(f"The username {username!r} is taken.")
        user = User.objects.create_user(
            username=username, password=password, email=email, full_name=full_name
        )
        record_audit(
            actor=actor,
            action="user.created",
            project_id=None,
            new={"username": username, "email": email},
        )
    return user


def update_user(*, actor: Any, user: User, changes: dict[str, Any]) -> User:
    """Change a person; `is_active: false` deactivates and closes their sockets."""
    from notifications.realtime import push_to_group, user_group

    with transaction.atomic():
        old = {k: getattr(user, k) for k in changes if k != "password"}
        for key, value in changes.items():
            if key == "password":
                user.set_password(value)
            else:
                setattr(user, key, value)
        user.save()
        record_audit(
            actor=actor,
            action="user.updated",
            project_id=None,
            old=old,
            new={k: v for k, v in changes.items() if k != "password"},
        )
        if changes.get("is_active") is False:
            Token.objects.filter(user=user).delete()
            transaction.on_commit(
                lambda: push_to_group(
                    user_group(user.pk), {"type": "access.revoked", "project_id": None}
                )
            )
    return user
