"""Admin pages: calendars and policies (edited through the services), read-only SLA records.

The scan's cadence is the "sla-scan" periodic task under django-celery-beat's Periodic tasks.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from config.api import DomainError
from sla import services
from sla.models import Calendar, SlaEscalation, SlaEvent, SlaPolicy, SlaScanRun, TicketSla


class _ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Calendar)
class CalendarAdmin(admin.ModelAdmin):
    list_display = ("name", "timezone", "version", "updated_at")
    search_fields = ("name",)
    readonly_fields = ("version",)

    def save_model(self, request: HttpRequest, obj: Calendar, form: Any, change: bool) -> None:
        fields = {
            "name": obj.name,
            "timezone": obj.timezone,
            "windows": obj.windows,
            "holidays": obj.holidays,
        }
        try:
            if change:
                saved = services.update_calendar(
                    actor=request.user, calendar=Calendar.objects.get(pk=obj.pk), **fields
                )
            else:
                saved = services.create_calendar(actor=request.user, **fields)
        except DomainError as exc:
            self.message_user(request, exc.message, level=messages.ERROR)
            return
        obj.pk, obj.version = saved.pk, saved.version

    def delete_model(self, request: HttpRequest, obj: Calendar) -> None:
        try:
            services.delete_calendar(actor=request.user, calendar=obj)
        except DomainError as exc:
            self.message_user(request, exc.message, level=messages.ERROR)


@admin.register(SlaPolicy)
class SlaPolicyAdmin(admin.ModelAdmin):
    list_display = (
        "project",
        "priority",
        "first_response_minutes",
        "resolution_minutes",
        "near_breach_ratio",
        "calendar",
        "version",
    )
    list_filter = ("priority", "project")
    readonly_fields = ("version",)
    actions = ["recompute_open_tickets"]

    def save_model(self, request: HttpRequest, obj: SlaPolicy, form: Any, change: bool) -> None:
        fields = {
            "first_response_minutes": obj.first_response_minutes,
            "resolution_minutes": obj.resolution_minutes,
            "near_breach_ratio": obj.near_breach_ratio,
            "calendar": obj.calendar,
            "escalation_chain": obj.escalation_chain,
        }
        try:
            if change:
                saved = services.update_policy(
                    actor=request.user, policy=SlaPolicy.objects.get(pk=obj.pk), **fields
                )
            else:
                saved = services.create_policy(
                    actor=request.user, project=obj.project, priority=obj.priority, **fields
                )
        except DomainError as exc:
            self.message_user(request, exc.message, level=messages.ERROR)
            return
        obj.pk, obj.version = saved.pk, saved.version

    def delete_model(self, request: HttpRequest, obj: SlaPolicy) -> None:
        services.delete_policy(actor=request.user, policy=obj)

    @admin.action(description="Recompute the open tickets of these policies' projects now")
    def recompute_open_tickets(self, request: HttpRequest, queryset: QuerySet[SlaPolicy]) -> None:
        from sla.services.clocks import open_ticket_ids

        totals = {"checked": 0, "changed": 0}
        for project_id in set(queryset.values_list("project_id", flat=True)):
            result = services.recompute_tickets(
                ticket_ids=open_ticket_ids(project_id), now=timezone.now()
            )
            totals = {k: totals[k] + result[k] for k in totals}
        self.message_user(
            request, f"{totals['checked']} open tickets checked, {totals['changed']} re-targeted."
        )


@admin.register(TicketSla)
class TicketSlaAdmin(_ReadOnly):
    list_display = (
        "ticket",
        "policy",
        "cycle",
        "fr_due_at",
        "res_due_at",
        "paused_at",
        "next_check_at",
    )
    list_select_related = ("ticket", "policy")
    raw_id_fields = ("ticket",)


@admin.register(SlaEvent)
class SlaEventAdmin(_ReadOnly):
    list_display = (
        "ticket",
        "kind",
        "metric",
        "cycle",
        "level",
        "at",
        "recorded_at",
        "delivered_at",
    )
    list_filter = ("kind", "metric")
    raw_id_fields = ("ticket",)


@admin.register(SlaEscalation)
class SlaEscalationAdmin(_ReadOnly):
    list_display = (
        "ticket",
        "metric",
        "cycle",
        "level",
        "role",
        "manual",
        "due_at",
        "processed_at",
        "outcome",
    )
    list_filter = ("outcome", "role", "manual")
    raw_id_fields = ("ticket",)


@admin.register(SlaScanRun)
class SlaScanRunAdmin(_ReadOnly):
    list_display = (
        "slot",
        "started_at",
        "finished_at",
        "scanned",
        "warned",
        "breached",
        "escalations",
    )
