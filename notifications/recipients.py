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

from config.rawsql import ModelColumns, fetch_all
from notifications import sql
from notifications.catalogue import channel_enabled, spec
from notifications.models import NotificationPreference
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


@dataclass(frozen=True)
class Candidate:
    """A user who may hear of an event on a ticket, with their project role and watch switches."""

    user: User
    lname: str
    project_role: str | None
    watch_in_app: bool | None  # None: not a watcher of the ticket
    watch_email: bool | None


_USER = ModelColumns(User, "u")
_PREFERENCE = ModelColumns(NotificationPreference, "np")
_CANDIDATES_SQL = sql.candidates(user=_USER.select(), preference=_PREFERENCE.select())


def _candidates(ticket: Ticket, ids: Iterable[int], mentions: list[str]) -> list[Candidate]:
    """Watchers, the given users and the mentioned ones, with their role and watch switches.

    One statement: the project role as a subquery, the watcher row and preferences as joins
    (a watcher row is unique per ticket and user, so no user appears twice).
    """
    params = {
        "project": ticket.project_id,
        "ticket": ticket.pk,
        "ids": [int(i) for i in ids],
        "mentions": list(mentions),
    }
    rows = fetch_all(_CANDIDATES_SQL, params)
    out: list[Candidate] = []
    at = _USER.width
    for row in rows:
        user = _USER.build(row)
        assert user is not None
        lname, role, watch_in_app, watch_email = row[at : at + 4]
        preference = _PREFERENCE.build(row, at + 4)
        User.notification_preference.related.set_cached_value(user, preference)
        out.append(Candidate(user, lname, role, watch_in_app, watch_email))
    return out


def _direct_reasons(ticket: Ticket, extra_recipients: Iterable[User]) -> dict[int, list[str]]:
    reasons: dict[int, list[str]] = {}
    for relation in ("assignee", "requester"):
        user_id = getattr(ticket, f"{relation}_id")
        if user_id is not None:
            reasons.setdefault(user_id, []).append(relation)
    for extra in extra_recipients:
        reasons.setdefault(extra.pk, []).append("escalation")
    return reasons


def _select(
    *,
    ticket: Ticket,
    kind: str,
    actor: Any,
    mentions: list[str],
    reasons: dict[int, list[str]],
    candidates: list[Candidate],
) -> list[Recipient]:
    """The rules: who of the candidates hears of `kind`, on which channels (no queries)."""
    audience = spec(kind).audience
    watch_flags: dict[int, tuple[bool, bool]] = {}
    for c in candidates:
        if c.watch_in_app is not None:
            reasons.setdefault(c.user.pk, []).insert(0, "watcher")
            watch_flags[c.user.pk] = (c.watch_in_app, bool(c.watch_email))
        if c.lname in mentions:
            reasons.setdefault(c.user.pk, []).append("mention")
    actor_id = getattr(actor, "pk", None) if getattr(actor, "is_authenticated", False) else None
    out: list[Recipient] = []
    for c in candidates:
        user = c.user
        if user.pk == actor_id or user.pk not in reasons:
            continue
        role = Role.ADMIN if user.is_superuser else c.project_role
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
    return out


def ticket_recipients(
    *,
    ticket: Ticket,
    kind: str,
    actor: Any,
    mentions: list[str],
    extra_recipients: Iterable[User] = (),
) -> tuple[list[Recipient], dict[int, User]]:
    """The people to notify of `kind` on `ticket`, and every user loaded on the way (by id)."""
    extra_recipients = list(extra_recipients)
    reasons = _direct_reasons(ticket, extra_recipients)
    candidates = _candidates(ticket, list(reasons), mentions)
    recipients = _select(
        ticket=ticket,
        kind=kind,
        actor=actor,
        mentions=mentions,
        reasons=reasons,
        candidates=candidates,
    )
    return recipients, {c.user.pk: c.user for c in candidates}


@dataclass
class BatchEvent:
    """One event of a batch (no message: mentions and internal notes take the single path)."""

    kind: str
    ticket: Ticket
    actor: Any = None
    extra_recipients: list[User] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)


def batch_recipients(
    events: list[BatchEvent],
) -> tuple[list[list[Recipient]], dict[int, User]]:
    """`ticket_recipients` for many events in three queries (users, watchers, roles).

    The same candidates (active watchers of the ticket and the directly addressed users) and the
    same rules (`_select`), so a batch notifies exactly whom one call per event would. Each
    ticket's watchers are read when this runs, so the caller must not change a ticket's watchers
    between two of its events in one batch.
    """
    if not events:
        return [], {}
    ticket_ids = {e.ticket.pk for e in events}
    project_ids = {e.ticket.project_id for e in events}
    watchers: dict[int, dict[int, tuple[bool, bool]]] = {}
    for ticket_id, user_id, in_app, email in Watcher.objects.filter(
        ticket_id__in=ticket_ids
    ).values_list("ticket_id", "user_id", "notify_in_app", "notify_email"):
        watchers.setdefault(ticket_id, {})[user_id] = (in_app, email)
    direct = [_direct_reasons(e.ticket, e.extra_recipients) for e in events]
    wanted = {uid for w in watchers.values() for uid in w} | {
        uid for reasons in direct for uid in reasons
    }
    users = {
        u.pk: u
        for u in User.objects.filter(pk__in=wanted, is_active=True)
        .select_related("notification_preference")
        .order_by("pk")
    }
    roles = {
        (project_id, user_id): role
        for project_id, user_id, role in Membership.objects.filter(
            project_id__in=project_ids, user_id__in=list(users)
        ).values_list("project_id", "user_id", "role")
    }
    out: list[list[Recipient]] = []
    for event, reasons in zip(events, direct, strict=True):
        ticket = event.ticket
        watching = watchers.get(ticket.pk, {})
        candidates = []
        for user_id in sorted(set(watching) | set(reasons)):
            user = users.get(user_id)
            if user is None:
                continue
            flags = watching.get(user_id)
            candidates.append(
                Candidate(
                    user,
                    user.username.lower(),
                    roles.get((ticket.project_id, user_id)),
                    flags[0] if flags else None,
                    flags[1] if flags else None,
                )
            )
        out.append(
            _select(
                ticket=ticket,
                kind=event.kind,
                actor=event.actor,
                mentions=[],
                reasons=reasons,
                candidates=candidates,
            )
        )
    return out, users


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
