"""Calendars and SLA policies: validation, the write path, the defaults every project gets."""

from __future__ import annotations

import re
from datetime import date, time
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import ProtectedError

from config.api import DomainError, InvalidInput
from sla.clock import BusinessCalendar, CalendarError, Window
from sla.models import Calendar, SlaPolicy, TicketSla
from tickets.audit import record_audit
from tickets.models import Priority, Project, Role

#: priority -> (first response, resolution) minutes, per the contract.
DEFAULT_TARGETS: dict[str, tuple[int, int]] = {
    Priority.LOW: (24 * 60, 72 * 60),
    Priority.MEDIUM: (8 * 60, 48 * 60),
    Priority.HIGH: (2 * 60, 24 * 60),
    Priority.CRITICAL: (30, 4 * 60),
}
#: Business minutes between escalation levels of the default chain, per priority.
DEFAULT_CHAIN_STEP: dict[str, int] = {
    Priority.LOW: 240,
    Priority.MEDIUM: 120,
    Priority.HIGH: 60,
    Priority.CRITICAL: 15,
}
DEFAULT_NEAR_BREACH_RATIO = 0.2
ESCALATION_ROLES = (Role.AGENT, Role.LEAD, Role.MANAGER, Role.ADMIN)
MAX_CHAIN_LEVELS = 10
_CLOCK = re.compile(r"^(\d{2}):(\d{2})(?::(\d{2}))?$")


def default_chain(priority: str) -> list[dict[str, Any]]:
    """agent at the breach, then lead, then manager, one priority-dependent step apart."""
    step = DEFAULT_CHAIN_STEP[priority]
    return [
        {"after_minutes": 0, "role": Role.AGENT.value, "reassign": False},
        {"after_minutes": step, "role": Role.LEAD.value, "reassign": False},
        {"after_minutes": step, "role": Role.MANAGER.value, "reassign": False},
    ]


# --- calendars ----------------------------------------------------------------------------------

_calendar_cache: dict[tuple[int, int], BusinessCalendar] = {}
_ALWAYS_OPEN = BusinessCalendar.always_open()


def _parse_clock(value: Any, field: str, *, end: bool) -> time:
    match = _CLOCK.match(value) if isinstance(value, str) else None
    if match is None:
        raise InvalidInput(f"{field} must look like 09:00.", details={"fields": {field: value}})
    hour, minute, second = int(match[1]), int(match[2]), int(match[3] or 0)
    if end and (hour, minute, second) == (24, 0, 0):
        return time(0, 0)
    if hour > 23 or minute > 59 or second > 59:
        raise InvalidInput(f"{field} is not a time of day: {value}.")
    return time(hour, minute, second)


def parse_calendar(
    timezone: Any, windows: Any, holidays: Any
) -> tuple[list[dict[str, Any]], list[str], BusinessCalendar]:
    """Validate a calendar's parts; returns normalised windows, holidays and the clock's calendar."""
    if not isinstance(windows, list) or not windows:
        raise InvalidInput("windows must be a non-empty list of {weekday, start, end}.")
    if not isinstance(holidays, list):
        raise InvalidInput("holidays must be a list of dates (YYYY-MM-DD).")
    parsed: list[Window] = []
    normalised: list[dict[str, Any]] = []
    for i, raw in enumerate(windows):
        if not isinstance(raw, dict) or set(raw) - {"weekday", "start", "end"}:
            raise InvalidInput(f"windows[{i}] must be {{weekday, start, end}}.")
        weekday = raw.get("weekday")
        if isinstance(weekday, bool) or not isinstance(weekday, int) or not 0 <= weekday <= 6:
            raise InvalidInput(f"windows[{i}].weekday must be 0 (Monday) to 6 (Sunday).")
        start = _parse_clock(raw.get("start"), f"windows[{i}].start", end=False)
        finish = _parse_clock(raw.get("end"), f"windows[{i}].end", end=True)
        try:
            parsed.append(Window(weekday, start, finish))
        except CalendarError as exc:
            raise InvalidInput(f"windows[{i}]: {exc}") from None
        normalised.append({"weekday": weekday, "start": raw["start"], "end": raw["end"]})
    days: list[date] = []
    for value in holidays:
        try:
            days.append(date.fromisoformat(value))
        except (TypeError, ValueError):
            raise InvalidInput(f"holidays: {value!r} is not a date (YYYY-MM-DD).") from None
    try:
        calendar = BusinessCalendar(str(timezone or ""), tuple(parsed), frozenset(days))
    except CalendarError as exc:
        raise InvalidInput(str(exc)) from None
    normalised.sort(key=lambda w: (w["weekday"], w["start"]))
    return normalised, sorted({d.isoformat() for d in days}), calendar


def business_calendar(calendar: Calendar | None) -> BusinessCalendar:
    """The clock's calendar for a stored one (24x7 UTC for None), cached per version."""
    if calendar is None:
        return _ALWAYS_OPEN
    key = (calendar.pk, calendar.version)
    cached = _calendar_cache.get(key)
    if cached is None:
        _, _, cached = parse_calendar(calendar.timezone, calendar.windows, calendar.holidays)
        if len(_calendar_cache) > 1000:
            _calendar_cache.clear()
        _calendar_cache[key] = cached
    return cached


def _calendar_snapshot(calendar: Calendar) -> dict[str, Any]:
    return {
        "id": calendar.pk,
        "name": calendar.name,
        "timezone": calendar.timezone,
        "windows": calendar.windows,
        "holidays": calendar.holidays,
        "version": calendar.version,
    }


def create_calendar(
    *, actor: Any, name: str, timezone: str, windows: Any, holidays: Any = ()
) -> Calendar:
    """Create a business calendar."""
    windows, holidays, _ = parse_calendar(timezone, windows, list(holidays))
    with transaction.atomic():
        try:
            with transaction.atomic():
                calendar = Calendar.objects.create(
                    name=name, timezone=timezone, windows=windows, holidays=holidays
                )
        except IntegrityError:
            raise DomainError(f"A calendar named {name!r} already exists.") from None
        record_audit(
            actor=actor,
            action="calendar.created",
            project_id=None,
            new=_calendar_snapshot(calendar),
        )
    return calendar


def update_calendar(*, actor: Any, calendar: Calendar, **changes: Any) -> Calendar:
    """Change a calendar; the version goes up and the open tickets of projects using it are recomputed."""
    unknown = set(changes) - {"name", "timezone", "windows", "holidays"}
    if unknown:
        raise InvalidInput(f"These fields cannot be changed: {', '.join(sorted(unknown))}.")
    with transaction.atomic():
        locked = Calendar.objects.select_for_update().get(pk=calendar.pk)
        old = _calendar_snapshot(locked)
        windows, holidays, _ = parse_calendar(
            changes.get("timezone", locked.timezone),
            changes.get("windows", locked.windows),
            list(changes.get("holidays", locked.holidays)),
        )
        locked.name = changes.get("name", locked.name)
        locked.timezone = changes.get("timezone", locked.timezone)
        locked.windows, locked.holidays = windows, holidays
        locked.version += 1
        try:
            with transaction.atomic():
                locked.save()
        except IntegrityError:
            raise DomainError(f"A calendar named {locked.name!r} already exists.") from None
        record_audit(
            actor=actor,
            action="calendar.updated",
            project_id=None,
            old=old,
            new=_calendar_snapshot(locked),
        )
        project_ids = set(
            SlaPolicy.objects.filter(calendar=locked).values_list("project_id", flat=True)
        )
        _queue_recompute(project_ids)
    return locked


def delete_calendar(*, actor: Any, calendar: Calendar) -> None:
    """Delete a calendar no policy uses (409 otherwise)."""
    with transaction.atomic():
        snapshot = _calendar_snapshot(calendar)
        try:
            with transaction.atomic():
                calendar.delete()
        except ProtectedError:
            raise DomainError(
                "Policies use this calendar; point them elsewhere first.",
                details={"policies": list(calendar.policies.values_list("pk", flat=True))},
            ) from None
        record_audit(actor=actor, action="calendar.deleted", project_id=None, old=snapshot)


# --- policies -----------------------------------------------------------------------------------


def validate_chain(chain: Any) -> list[dict[str, Any]]:
    """An escalation chain: ordered [{after_minutes >= 0, role (agent..admin), reassign}]."""
    if not isinstance(chain, list) or len(chain) > MAX_CHAIN_LEVELS:
        raise InvalidInput(f"escalation_chain must be a list of at most {MAX_CHAIN_LEVELS} levels.")
    out = []
    for i, level in enumerate(chain):
        if not isinstance(level, dict) or set(level) - {"after_minutes", "role", "reassign"}:
            raise InvalidInput(f"escalation_chain[{i}] must be {{after_minutes, role, reassign}}.")
        after = level.get("after_minutes")
        if isinstance(after, bool) or not isinstance(after, int) or not 0 <= after <= 525_600:
            raise InvalidInput(f"escalation_chain[{i}].after_minutes must be 0..525600.")
        if level.get("role") not in ESCALATION_ROLES:
            raise InvalidInput(
                f"escalation_chain[{i}].role must be one of {', '.join(ESCALATION_ROLES)}."
            )
        reassign = level.get("reassign", False)
        if not isinstance(reassign, bool):
            raise InvalidInput(f"escalation_chain[{i}].reassign must be true or false.")
        out.append({"after_minutes": after, "role": level["role"], "reassign": reassign})
    return out


def _validate_policy_fields(fields: dict[str, Any]) -> dict[str, Any]:
    for name in ("first_response_minutes", "resolution_minutes"):
        if name in fields:
            value = fields[name]
            if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= 5_256_000:
                raise InvalidInput(f"{name} must be a positive number of minutes.")
    if "near_breach_ratio" in fields:
        ratio = fields["near_breach_ratio"]
        if isinstance(ratio, bool) or not isinstance(ratio, int | float) or not 0 <= ratio < 1:
            raise InvalidInput("near_breach_ratio must be at least 0 and below 1.")
        fields["near_breach_ratio"] = float(ratio)
    if "escalation_chain" in fields:
        fields["escalation_chain"] = validate_chain(fields["escalation_chain"])
    calendar = fields.get("calendar")
    if calendar is not None and not isinstance(calendar, Calendar):
        raise InvalidInput("calendar must be a calendar id or null.")
    return fields


def policy_snapshot(policy: SlaPolicy) -> dict[str, Any]:
    """The policy as the API and the audit trail show it."""
    return {
        "id": policy.pk,
        "priority": policy.priority,
        "first_response_minutes": policy.first_response_minutes,
        "resolution_minutes": policy.resolution_minutes,
        "near_breach_ratio": policy.near_breach_ratio,
        "calendar": policy.calendar_id,
        "escalation_chain": policy.escalation_chain,
        "version": policy.version,
    }


def create_default_policies(*, project: Project) -> None:
    """Seed a new project's SLA policies (one per priority, 24x7, agent -> lead -> manager)."""
    SlaPolicy.objects.bulk_create(
        [
            SlaPolicy(
                project=project,
                priority=priority,
                first_response_minutes=first,
                resolution_minutes=resolution,
                near_breach_ratio=DEFAULT_NEAR_BREACH_RATIO,
                escalation_chain=default_chain(priority),
            )
            for priority, (first, resolution) in DEFAULT_TARGETS.items()
        ],
        ignore_conflicts=True,
    )


def create_policy(*, actor: Any, project: Project, priority: str, **fields: Any) -> SlaPolicy:
    """Add the project's policy for a priority (409 when it already has one)."""
    if priority not in Priority.values:
        raise InvalidInput(f"priority must be one of {', '.join(Priority.values)}.")
    missing = {"first_response_minutes", "resolution_minutes"} - set(fields)
    if missing:
        raise InvalidInput(f"Missing: {', '.join(sorted(missing))}.")
    fields = _validate_policy_fields(dict(fields))
    with transaction.atomic():
        try:
            with transaction.atomic():
                policy = SlaPolicy.objects.create(project=project, priority=priority, **fields)
        except IntegrityError:
            raise DomainError(
                f"{project.key} already has a {priority} policy; change that one instead."
            ) from None
        record_audit(
            actor=actor,
            action="sla_policy.created",
            project_id=project.pk,
            new=policy_snapshot(policy),
        )
        _queue_recompute({project.pk})
    return policy


POLICY_FIELDS = {
    "first_response_minutes",
    "resolution_minutes",
    "near_breach_ratio",
    "calendar",
    "escalation_chain",
}


def update_policy(*, actor: Any, policy: SlaPolicy, **changes: Any) -> SlaPolicy:
    """Change a policy (not its priority); the version goes up and open tickets are recomputed."""
    if "priority" in changes and changes.pop("priority") != policy.priority:
        raise InvalidInput("A policy's priority cannot change; create a policy for it instead.")
    unknown = set(changes) - POLICY_FIELDS
    if unknown:
        raise InvalidInput(f"These fields cannot be changed: {', '.join(sorted(unknown))}.")
    changes = _validate_policy_fields(dict(changes))
    with transaction.atomic():
        locked = SlaPolicy.objects.select_for_update().get(pk=policy.pk)
        old = policy_snapshot(locked)
        for name, value in changes.items():
            setattr(locked, name, value)
        locked.version += 1
        locked.save()
        record_audit(
            actor=actor,
            action="sla_policy.updated",
            project_id=locked.project_id,
            old=old,
            new=policy_snapshot(locked),
        )
        _queue_recompute({locked.project_id})
    return locked


def delete_policy(*, actor: Any, policy: SlaPolicy) -> None:
    """Delete a policy: tickets of that priority stop having an SLA (their clocks stop)."""
    with transaction.atomic():
        snapshot = policy_snapshot(policy)
        TicketSla.objects.filter(policy=policy).update(
            policy=None, next_check_at=None, next_due_at=None
        )
        record_audit(
            actor=actor, action="sla_policy.deleted", project_id=policy.project_id, old=snapshot
        )
        policy.delete()


def _queue_recompute(project_ids: set[int]) -> None:
    from sla.tasks import recompute_project_sla_task

    for project_id in sorted(project_ids):
        recompute_project_sla_task.delay_on_commit(project_id)
