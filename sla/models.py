"""SLA data: calendars, per-project policies, per-ticket clock state, its timeline and escalations.

A ticket's clocks live in `TicketSla` (one row per ticket, keyed by the ticket), so the ticket
services never write the ticket row for SLA bookkeeping. Due instants are stored; the scan reads
`next_check_at` through a partial index, so its cost follows the number of due rows, not of open
tickets.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from tickets.models import Priority, Role


class Metric(models.TextChoices):
    FIRST_RESPONSE = "first_response"
    RESOLUTION = "resolution"


METRICS = (Metric.FIRST_RESPONSE, Metric.RESOLUTION)


class EventKind(models.TextChoices):
    STARTED = "started"
    PAUSED = "paused"
    RESUMED = "resumed"
    WARNED = "warned"
    BREACHED = "breached"
    ESCALATED = "escalated"
    ACKNOWLEDGED = "acknowledged"
    MET = "met"
    RETARGETED = "retargeted"
    RESTARTED = "restarted"
    STOPPED = "stopped"


class Calendar(models.Model):
    """Weekly business windows in a time zone, minus holidays (a policy without one is 24x7)."""

    name = models.CharField(max_length=120, unique=True)
    timezone = models.CharField(max_length=64, default="UTC")
    # [{"weekday": 0-6, "start": "09:00", "end": "12:30"}], several per day allowed; "24:00" ends a day.
    windows = models.JSONField(default=list)
    holidays = models.JSONField(default=list, blank=True)  # ["2026-12-25", ...]
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("name", "id")

    def __str__(self) -> str:
        return self.name


class SlaPolicy(models.Model):
    """Targets for one project and priority, on a calendar, with an escalation chain."""

    project = models.ForeignKey(
        "tickets.Project", on_delete=models.CASCADE, related_name="sla_policies"
    )
    priority = models.CharField(max_length=10, choices=Priority.choices)
    first_response_minutes = models.PositiveIntegerField()
    resolution_minutes = models.PositiveIntegerField()
    # Near breach when less than this share of the target's business time is left.
    near_breach_ratio = models.FloatField(default=0.2)
    calendar = models.ForeignKey(
        Calendar, null=True, blank=True, on_delete=models.PROTECT, related_name="policies"
    )
    # Ordered levels [{"after_minutes": int, "role": str, "reassign": bool}]; level n fires
    # after_minutes business minutes after level n-1 (level 1 after the breach).
    escalation_chain = models.JSONField(default=list, blank=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "SLA policy"
        verbose_name_plural = "SLA policies"
        ordering = ("project", "id")
        constraints = [
            models.UniqueConstraint(fields=["project", "priority"], name="sla_policy_unique"),
            models.CheckConstraint(
                condition=Q(priority__in=Priority.values), name="sla_policy_priority_valid"
            ),
            models.CheckConstraint(
                condition=Q(near_breach_ratio__gte=0) & Q(near_breach_ratio__lt=1),
                name="sla_policy_ratio_range",
            ),
            models.CheckConstraint(
                condition=Q(first_response_minutes__gt=0) & Q(resolution_minutes__gt=0),
                name="sla_policy_targets_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.project_id}:{self.priority}"


class TicketSla(models.Model):
    """A ticket's SLA clocks. fr_* is the first-response metric, res_* the resolution metric.

    Targets and paused time are business seconds. `cycle` counts resolution cycles (a reopen
    starts a new one). `next_check_at` is the earliest pending warning, breach or escalation
    instant (NULL when nothing is pending: paused, met, stopped), `next_due_at` the earliest running
    due instant (the list ordering key).
    """

    ticket = models.OneToOneField(
        "tickets.Ticket", on_delete=models.CASCADE, primary_key=True, related_name="sla_state"
    )
    # No index on project or policy: the scan rewrites these rows (never HOT, next_check_at is
    # indexed), and each index is one more write per row; per-project reads go through tickets.
    project = models.ForeignKey(
        "tickets.Project", on_delete=models.CASCADE, db_index=False, related_name="+"
    )
    policy = models.ForeignKey(
        SlaPolicy,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    policy_version = models.PositiveIntegerField(default=0)
    cycle = models.PositiveIntegerField(default=1)
    paused_at = models.DateTimeField(null=True, blank=True)
    stopped_at = models.DateTimeField(null=True, blank=True)
    ever_breached = models.BooleanField(default=False)
    acknowledged_at = models.DateTimeField(null=True, blank=True)

    fr_started_at = models.DateTimeField(null=True, blank=True)
    fr_target_seconds = models.PositiveIntegerField(null=True, blank=True)
    fr_paused_seconds = models.PositiveIntegerField(default=0)
    fr_warn_at = models.DateTimeField(null=True, blank=True)
    fr_due_at = models.DateTimeField(null=True, blank=True)
    fr_warned_at = models.DateTimeField(null=True, blank=True)
    fr_breached_at = models.DateTimeField(null=True, blank=True)
    fr_met_at = models.DateTimeField(null=True, blank=True)
    fr_esc_level = models.PositiveSmallIntegerField(default=0)
    fr_next_esc_at = models.DateTimeField(null=True, blank=True)

    res_started_at = models.DateTimeField(null=True, blank=True)
    res_target_seconds = models.PositiveIntegerField(null=True, blank=True)
    res_paused_seconds = models.PositiveIntegerField(default=0)
    res_warn_at = models.DateTimeField(null=True, blank=True)
    res_due_at = models.DateTimeField(null=True, blank=True)
    res_warned_at = models.DateTimeField(null=True, blank=True)
    res_breached_at = models.DateTimeField(null=True, blank=True)
    res_met_at = models.DateTimeField(null=True, blank=True)
    res_esc_level = models.PositiveSmallIntegerField(default=0)
    res_next_esc_at = models.DateTimeField(null=True, blank=True)

    next_check_at = models.DateTimeField(null=True, blank=True)
    next_due_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "ticket SLA state"
        indexes = [
            # The scan: "open and due" is next_check_at <= now over this partial index.
            models.Index(
                fields=["next_check_at"],
                name="sla_state_next_check_idx",
                condition=Q(next_check_at__isnull=False),
            ),
            # Lists ordered or filtered by the running due instant.
            models.Index(
                fields=["next_due_at"],
                name="sla_state_next_due_idx",
                condition=Q(next_due_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"SLA of ticket {self.ticket_id}"


class SlaEvent(models.Model):
    """One row of a ticket's SLA timeline.

    Warnings and breaches are unique per (ticket, metric, cycle, kind): the scan inserts them with
    ON CONFLICT DO NOTHING, so a second scan, or a scan racing a ticket write, adds nothing.
    `delivered_at` makes them an outbox: the board event and notifications follow in a relay.
    """

    # No database FK on ticket/project: the scan inserts these rows while ticket writers hold
    # ticket rows FOR UPDATE, and an FK check (FOR KEY SHARE) would make it wait on them.
    ticket = models.ForeignKey(
        "tickets.Ticket",
        on_delete=models.CASCADE,
        db_constraint=False,
        db_index=False,  # the (ticket, ...) indexes below serve every lookup
        related_name="+",
    )
    project = models.ForeignKey(
        "tickets.Project",
        on_delete=models.CASCADE,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )
    kind = models.CharField(max_length=20, choices=EventKind.choices)
    metric = models.CharField(max_length=20, blank=True)  # "" for ticket-wide events
    cycle = models.PositiveIntegerField(default=1)
    level = models.PositiveSmallIntegerField(null=True, blank=True)
    at = models.DateTimeField()  # the instant the event is about (a breach: its due instant)
    recorded_at = models.DateTimeField(auto_now_add=True)
    reason = models.CharField(max_length=300, blank=True)
    policy = models.ForeignKey(
        SlaPolicy,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )
    policy_version = models.PositiveIntegerField(default=0)
    actor = models.ForeignKey(
        "tickets.User",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )
    data = models.JSONField(default=dict, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("at", "id")
        constraints = [
            models.UniqueConstraint(
                fields=["ticket", "metric", "cycle", "kind"],
                condition=Q(kind__in=["warned", "breached"]),
                name="sla_event_once",
            ),
        ]
        indexes = [
            models.Index(fields=["ticket", "at"], name="sla_event_ticket_idx"),
            models.Index(
                fields=["recorded_at"],
                name="sla_event_undelivered_idx",
                condition=Q(delivered_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.kind} {self.metric}"


class SlaEscalation(models.Model):
    """One escalation step, unique per (ticket, metric, cycle, level); processed exactly once."""

    # No database FK on ticket/project, for the same reason as SlaEvent.
    ticket = models.ForeignKey(
        "tickets.Ticket",
        on_delete=models.CASCADE,
        db_constraint=False,
        db_index=False,  # the (ticket, ...) indexes below serve every lookup
        related_name="+",
    )
    project = models.ForeignKey(
        "tickets.Project",
        on_delete=models.CASCADE,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )
    metric = models.CharField(max_length=20, choices=Metric.choices)
    cycle = models.PositiveIntegerField(default=1)
    level = models.PositiveSmallIntegerField()
    due_at = models.DateTimeField()
    role = models.CharField(max_length=16, choices=Role.choices)
    reassign = models.BooleanField(default=False)
    manual = models.BooleanField(default=False)
    actor = models.ForeignKey(
        "tickets.User",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )
    reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=20, blank=True)  # escalated | cancelled | skipped
    notified = models.JSONField(default=list, blank=True)  # user ids
    reassigned_to = models.ForeignKey(
        "tickets.User",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )

    class Meta:
        ordering = ("created_at", "id")
        constraints = [
            models.UniqueConstraint(
                fields=["ticket", "metric", "cycle", "level"], name="sla_escalation_once"
            ),
        ]
        indexes = [
            models.Index(
                fields=["created_at"],
                name="sla_escalation_pending_idx",
                condition=Q(processed_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.metric} level {self.level}"


class SlaScanRun(models.Model):
    """One scan per slot: the unique slot makes a second invocation for the same slot a no-op."""

    slot = models.BigIntegerField(unique=True)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    scanned = models.PositiveIntegerField(default=0)
    warned = models.PositiveIntegerField(default=0)
    breached = models.PositiveIntegerField(default=0)
    escalations = models.PositiveIntegerField(default=0)
    batches = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ("-slot",)

    def __str__(self) -> str:
        return f"scan slot {self.slot}"
