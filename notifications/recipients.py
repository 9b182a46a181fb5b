"""Who hears of an event: candidates by relation to the ticket, filtered by visibility and preferences.

Candidates are the ticket's watchers, assignee and requester, the people @mentioned in the message,
and any extra recipients (an escalation role). The actor never hears of their own change. A user
must be active and a member of the project; a customer only hears of their own tickets and never
of a staff-only kind (an internal note, an SLA warning). Per-ticket watcher switches apply to the
watcher/assignee/requester relation; a mention or an escalation reaches the user anyway. Then the
user's own preferences decide each channel.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Exists, OuterRef, Q, Subquery
from django.db.models.functions import Lower

from notifications.catalogue import channel_enabled, spec
from tickets.models import ROLE_RANK, Membership, Role, Ticket, User, Watcher

# Relations that follow the per-ticket watcher switches; the others are direct addresses.
WATCH_REASONS = frozenset({"watcher", "assignee", "requester"})


@dataclass
class Recipient:
    user: User
    role: str
    reasons: list[str] = field(default_factory=list)
    in_app: bool = False
    email: bool = False


def _prefs(user: User) -> dict[str, Any] | None:
    """The preferences joined in by `_candidates` (None: the user never changed them)."""
    try:
        row = getattr(user, "notification_preference")  # noqa: B009 - a reverse one-to-one
    except ObjectDoesNotExist:
        return None
    prefs: dict[str, Any] = row.as_prefs()
    return prefs


def _candidates(ticket: Ticket, ids: Iterable[int], mentions: list[str]) -> list[Any]:
    """Watchers, the given users and the mentioned ones, with their role and watch switches.

    One query: the project role and the watcher row come as subqueries, preferences as a join.
    """
    role = Membership.objects.filter(project_id=ticket.project_id, user_id=OuterRef("pk"))
    watch = Watcher.objects.filter(ticket_id=ticket.pk, user_id=OuterRef("pk"))
    match = Q(Exists(watch)) | Q(pk__in=list(ids))
    if mentions:
        match |= Q(lname__in=mentions)
    return list(
        User.objects.annotate(
            lname=Lower("username"),
            project_role=Subquery(role.values("role")[:1]),
            watch_in_app=Subquery(watch.values("notify_in_app")[:1]),
            watch_email=Subquery(watch.values("notify_email")[:1]),
        )
        .filter(match, is_active=True)
        .select_related("notification_preference")
    )


def _role(user: Any) -> str | None:
    return Role.ADMIN if user.is_superuser else user.project_role


def ticket_recipients(
    *,
    ticket: Ticket,
    kind: str,
    actor: Any,
    mentions: list[str],
    extra_recipients: Iterable[User] = (),
) -> tuple[list[Recipient], dict[int, User]]:
    """The people to notify of `kind` on `ticket`, and every user loaded on the way (by id)."""
    audience = spec(kind).audience
    reasons: dict[int, list[str]] = {}
    for relation in ("assignee", "requester"):
        user_id = getattr(ticket, f"{relation}_id")
        if user_id is not None:
            reasons.setdefault(user_id, []).append(relation)
    for extra in extra_recipients:
        reasons.setdefault(extra.pk, []).append("escalation")
    users = _candidates(ticket, list(reasons), mentions)
    known = {u.pk: u for u in users}
    watch_flags: dict[int, tuple[bool, bool]] = {}
    for user in users:
        if user.watch_in_app is not None:
            reasons.setdefault(user.pk, []).insert(0, "watcher")
            watch_flags[user.pk] = (user.watch_in_app, user.watch_email)
        if user.lname in mentions:
            reasons.setdefault(user.pk, []).append("mention")
    actor_id = getattr(actor, "pk", None) if getattr(actor, "is_authenticated", False) else None
    out: list[Recipient] = []
    for user in users:
        if user.pk == actor_id or user.pk not in reasons:
            continue
        role = _role(user)
        if role is None:
            continue
        staff = ROLE_RANK[role] >= ROLE_RANK[Role.AGENT]
        if not staff:
            if audience != "all":
                continue
            if user.pk not in (ticket.requester_id, ticket.created_by_id):
                continue
        direct = any(r not in WATCH_REASONS for r in reasons[user.pk])
        flag_in_app, flag_email = (True, True) if direct else watch_flags.get(user.pk, (True, True))
        prefs = _prefs(user)
        recipient = Recipient(
            user=user,
            role=role,
            reasons=list(dict.fromkeys(reasons[user.pk])),
            in_app=flag_in_app and channel_enabled(prefs, kind, "in_app"),
            email=flag_email and bool(user.email) and channel_enabled(prefs, kind, "email"),
        )
        if recipient.in_app or recipient.email:
            out.append(recipient)
    return out, known


def stored_preferences(user: User) -> dict[str, Any] | None:
    """A user's stored preferences (None: every default)."""
    from notifications.models import NotificationPreference

    row = NotificationPreference.objects.filter(user=user).first()
    return row.as_prefs() if row is not None else None


def user_recipient(user: User, kind: str, *, reason: str) -> Recipient | None:
    """One user addressed directly (notify_user), filtered by their preferences only."""
    if not user.is_active:
        return None
    prefs = stored_preferences(user)
    recipient = Recipient(
        user=user,
        role="",
        reasons=[reason],
        in_app=channel_enabled(prefs, kind, "in_app"),
        email=bool(user.email) and channel_enabled(prefs, kind, "email"),
    )
    return recipient if recipient.in_app or recipient.email else None


def project_admins(project_id: int) -> list[User]:
    """Active admins of a project (site admins are not members, so they are not included)."""
    return list(
        User.objects.filter(
            is_active=True, memberships__project_id=project_id, memberships__role=Role.ADMIN
        ).distinct()
    )
