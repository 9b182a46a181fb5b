"""The event catalogue: every kind, who may hear of it and on which channels by default.

Pure (no Django): dispatch, the preferences API and docs/events.md all read this one table.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

CHANNELS = ("in_app", "email")

# Who may hear of a kind at all, before preferences:
#   all     - staff of the project and the customers who can see the ticket
#   staff   - agents and up only (customers never hear of it)
#   admins  - the project's admins
#   user    - only the user it is addressed to (notify_user)
#   none    - nobody in-app or by e-mail (webhooks only)
AUDIENCES = ("all", "staff", "admins", "user", "none")


@dataclass(frozen=True)
class EventKind:
    kind: str
    description: str
    audience: str
    webhook: bool
    in_app: bool
    email: bool
    # False means the channel is never used for this kind, whatever a user prefers.
    email_allowed: bool = True


_KINDS = [
    EventKind("ticket.created", "A ticket was opened.", "all", True, True, True),
    EventKind(
        "ticket.updated",
        "Fields of a ticket changed (`changed` lists them).",
        "all",
        True,
        True,
        False,
    ),
    EventKind(
        "ticket.moved",
        "A ticket moved on the board (`from_status` is where it came from).",
        "all",
        True,
        True,
        False,
    ),
    EventKind(
        "ticket.assigned",
        "A ticket was assigned or unassigned (`reason` says why).",
        "all",
        True,
        True,
        True,
    ),
    EventKind(
        "ticket.commented",
        "A public reply was posted (`message`).",
        "all",
        True,
        True,
        True,
    ),
    EventKind(
        "ticket.noted",
        "An internal note was posted: staff only, in-app only, never webhooks or e-mail.",
        "staff",
        False,
        True,
        False,
        email_allowed=False,
    ),
    EventKind("ticket.resolved", "A ticket entered a done status.", "all", True, True, True),
    EventKind("ticket.archived", "A ticket was archived.", "staff", True, True, False),
    EventKind("sla.warning", "An SLA target is near its breach point.", "staff", True, True, False),
    EventKind("sla.breached", "An SLA target was breached.", "staff", True, True, True),
    EventKind(
        "sla.escalated",
        "A ticket went one level up its escalation chain.",
        "staff",
        True,
        True,
        True,
    ),
    EventKind(
        "export.succeeded", "An export finished; its file is ready.", "user", True, True, False
    ),
    EventKind("export.failed", "An export failed.", "user", True, True, True),
    EventKind(
        "webhook.disabled",
        "A webhook endpoint was disabled after a long run of failures.",
        "admins",
        False,
        True,
        True,
    ),
    EventKind(
        "webhook.test",
        "A test ping sent from the webhook's `test` action (ignores event filters).",
        "none",
        True,
        False,
        False,
        email_allowed=False,
    ),
]

CATALOGUE: dict[str, EventKind] = {k.kind: k for k in _KINDS}
# Kinds a webhook may subscribe to (the test ping is sent on request, never by subscription).
WEBHOOK_KINDS: tuple[str, ...] = tuple(
    k.kind for k in _KINDS if k.webhook and k.kind != "webhook.test"
)
# Kinds a person can hear of, hence the ones a preference can be set for.
PREFERENCE_KINDS: tuple[str, ...] = tuple(k.kind for k in _KINDS if k.audience != "none")
WILDCARD = "*"


def spec(kind: str) -> EventKind:
    """The catalogue entry of a kind (KeyError for a kind that is not in the catalogue)."""
    return CATALOGUE[kind]


def channel_allowed(kind: str, channel: str) -> bool:
    """Whether a channel can ever carry this kind (internal notes are never e-mailed)."""
    entry = CATALOGUE.get(kind)
    if entry is None or entry.audience == "none":
        return False
    return entry.email_allowed if channel == "email" else True


def channel_default(kind: str, channel: str) -> bool:
    """The channel's default for a kind when the user has not said otherwise."""
    entry = CATALOGUE[kind]
    return entry.in_app if channel == "in_app" else entry.email


def channel_enabled(prefs: Mapping[str, Any] | None, kind: str, channel: str) -> bool:
    """Whether a user with these stored preferences gets `kind` on `channel`.

    `prefs` is `{"in_app": bool, "email": bool, "events": {kind: {channel: bool}}}` (any part may
    be missing): the channel's master switch, then the kind's own setting, then the default.
    """
    if not channel_allowed(kind, channel):
        return False
    prefs = prefs or {}
    if prefs.get(channel) is False:
        return False
    per_kind = (prefs.get("events") or {}).get(kind) or {}
    value = per_kind.get(channel)
    return channel_default(kind, channel) if value is None else bool(value)


def resolved_preferences(prefs: Mapping[str, Any] | None) -> dict[str, Any]:
    """The full preference document a user sees: master switches and every kind's channels."""
    prefs = prefs or {}
    events: dict[str, dict[str, bool]] = {}
    for kind in PREFERENCE_KINDS:
        stored = (prefs.get("events") or {}).get(kind) or {}
        events[kind] = {
            channel: (
                bool(stored[channel])
                if stored.get(channel) is not None
                else channel_default(kind, channel)
            )
            and channel_allowed(kind, channel)
            for channel in CHANNELS
        }
    return {
        "in_app": prefs.get("in_app", True) is not False,
        "email": prefs.get("email", True) is not False,
        "events": events,
    }


def clean_preferences(raw: Any) -> dict[str, Any]:
    """Validate a preferences document from a client; ValueError names what is wrong.

    Kinds left out keep their defaults; a channel a kind can never use must not be switched on.
    """
    if not isinstance(raw, Mapping):
        raise ValueError("Expected an object.")
    unknown = set(raw) - {"in_app", "email", "events"}
    if unknown:
        raise ValueError(f"Unknown keys: {', '.join(sorted(unknown))}.")
    out: dict[str, Any] = {}
    for channel in CHANNELS:
        if channel in raw:
            if not isinstance(raw[channel], bool):
                raise ValueError(f"{channel} must be true or false.")
            out[channel] = raw[channel]
    events = raw.get("events", {})
    if not isinstance(events, Mapping):
        raise ValueError("events must be an object of kind -> {in_app, email}.")
    clean_events: dict[str, dict[str, bool]] = {}
    for kind, channels in events.items():
        if kind not in PREFERENCE_KINDS:
            raise ValueError(f"Unknown event kind {kind!r}.")
        if not isinstance(channels, Mapping) or set(channels) - set(CHANNELS):
            raise ValueError(f"events.{kind} must be an object with in_app and/or email.")
        entry: dict[str, bool] = {}
        for channel, value in channels.items():
            if not isinstance(value, bool):
                raise ValueError(f"events.{kind}.{channel} must be true or false.")
            if value and not channel_allowed(kind, channel):
                raise ValueError(f"{kind} is never sent by {channel}.")
            if value != channel_default(kind, channel):
                entry[channel] = value
        if entry:
            clean_events[kind] = entry
    out["events"] = clean_events
    return out


def clean_webhook_events(raw: Any) -> list[str]:
    """Validate a webhook's event filter: kinds of the catalogue, or `["*"]` for all of them."""
    if not isinstance(raw, list) or not raw or not all(isinstance(k, str) for k in raw):
        raise ValueError('events must be a non-empty list of event kinds (or ["*"]).')
    kinds = list(dict.fromkeys(raw))
    if WILDCARD in kinds:
        if len(kinds) > 1:
            raise ValueError('"*" already means every event; list nothing else with it.')
        return [WILDCARD]
    unknown = [k for k in kinds if k not in WEBHOOK_KINDS]
    if unknown:
        raise ValueError(
            f"Unknown or non-webhook event kinds: {', '.join(unknown)}. "
            f"Choose from {', '.join(WEBHOOK_KINDS)}."
        )
    return kinds


# A mention is `@username` not glued to a word, an e-mail address or another mention.
_MENTION_RE = re.compile(r"(?<![\w@.+-])@([\w.+-]+)")


def parse_mentions(text: str) -> list[str]:
    """Usernames mentioned as `@name` in a message, lower-cased, unique, in order of appearance."""
    names: list[str] = []
    for match in _MENTION_RE.finditer(text or ""):
        name = match.group(1).rstrip(".-+").lower()
        if name and name not in names:
            names.append(name)
    return names


def headline(kind: str, data: Mapping[str, Any]) -> str:
    """A one-line human sentence for a notification or an e-mail subject."""
    ticket = data.get("ticket") or {}
    key = ticket.get("key") or ""
    actor = data.get("actor") or "Someone"
    if kind == "ticket.created":
        return f"{actor} opened {key}: {ticket.get('title', '')}"
    if kind == "ticket.updated":
        changed = ", ".join(data.get("changed") or []) or "details"
        return f"{actor} changed {changed} of {key}"
    if kind == "ticket.moved":
        return f"{actor} moved {key} to {ticket.get('status_name') or ticket.get('status')}"
    if kind == "ticket.assigned":
        assignee = ticket.get("assignee")
        return f"{actor} assigned {key} to {assignee}" if assignee else f"{actor} unassigned {key}"
    if kind == "ticket.commented":
        return f"{actor} replied on {key}"
    if kind == "ticket.noted":
        return f"{actor} added an internal note on {key}"
    if kind == "ticket.resolved":
        return f"{key} was resolved"
    if kind == "ticket.archived":
        return f"{actor} archived {key}"
    if kind == "sla.warning":
        return f"{key} is close to breaching its SLA"
    if kind == "sla.breached":
        return f"{key} breached its SLA"
    if kind == "sla.escalated":
        level = data.get("level")
        return f"{key} was escalated" + (f" to level {level}" if level is not None else "")
    if kind == "export.succeeded":
        return "Your export is ready"
    if kind == "export.failed":
        return "Your export failed"
    if kind == "webhook.disabled":
        return f"Webhook {data.get('url', '')} was disabled after repeated failures"
    return kind
