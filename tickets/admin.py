"""Admin pages for the hub. Writes that have a service go through it (admin actions included)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest

from config.api import DomainError
from tickets.models import (
    Attachment,
    AuditLog,
    BoardColumn,
    ClassificationFeedback,
    ClassifierModel,
    ColumnStatus,
    Membership,
    Message,
    Project,
    Status,
    Ticket,
    User,
    Watcher,
)


@admin.register(User)
class HelplineUserAdmin(UserAdmin):
    list_display = ("username", "full_name", "email", "is_active", "is_superuser", "last_login")
    fieldsets = (*UserAdmin.fieldsets, ("Helpline", {"fields": ("full_name",)}))  # type: ignore[misc]


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ("user",)


class ColumnInline(admin.TabularInline):
    model = BoardColumn
    extra = 0
    show_change_link = True


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ("key", "name", "ticket_counter", "rank_bucket", "created_at")
    search_fields = ("key", "name")
    readonly_fields = ("ticket_counter", "rank_bucket", "created_at", "updated_at")
    inlines = (MembershipInline, ColumnInline)
    actions = ("rebalance_ranks",)

    @admin.action(description="Rebalance ticket ranks now (queued)")
    def rebalance_ranks(self, request: HttpRequest, queryset: QuerySet[Project]) -> None:
        from tickets.tasks import rebalance_project_task

        for project in queryset:
            rebalance_project_task.delay(project.pk)
        self.message_user(request, f"Queued a rebalance for {queryset.count()} project(s).")


@admin.register(Status)
class StatusAdmin(admin.ModelAdmin):
    list_display = ("key", "name", "category", "order", "is_default", "pauses_sla")
    list_editable = ("order",)
    search_fields = ("key", "name")


class ColumnStatusInline(admin.TabularInline):
    model = ColumnStatus
    extra = 0


@admin.register(BoardColumn)
class BoardColumnAdmin(admin.ModelAdmin):
    list_display = (
        "project",
        "name",
        "order",
        "min_limit",
        "max_limit",
        "enforce_wip",
        "is_collapsed",
    )
    list_filter = ("project",)
    inlines = (ColumnStatusInline,)


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "project", "role", "created_at")
    list_filter = ("role", "project")
    search_fields = ("user__username", "project__key")


class MessageInline(admin.StackedInline):
    model = Message
    extra = 0
    readonly_fields = ("author", "created_at")


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin):
    list_display = (
        "__str__",
        "title",
        "status",
        "priority",
        "category",
        "assignee",
        "is_archived",
        "created_at",
    )
    list_filter = ("project", "status", "priority", "is_archived")
    search_fields = ("title", "description")
    readonly_fields = (
        "project",
        "number",
        "rank",
        "created_by",
        "created_at",
        "updated_at",
        "first_response_at",
        "resolved_at",
        "closed_at",
        "reopened_count",
        "escalation_level",
        "classification",
    )
    raw_id_fields = ("assignee", "requester")
    inlines = (MessageInline,)
    actions = ("archive",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # tickets are created through the API so every side effect happens

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # archive instead; the audit trail refers to tickets forever

    @admin.action(description="Archive selected tickets")
    def archive(self, request: HttpRequest, queryset: QuerySet[Ticket]) -> None:
        from tickets.services.tickets import archive_ticket

        done = 0
        for ticket in queryset:
            try:
                archive_ticket(actor=request.user, ticket_id=ticket.pk)
                done += 1
            except DomainError as exc:
                self.message_user(request, f"{ticket}: {exc.message}", level=messages.ERROR)
        self.message_user(request, f"Archived {done} ticket(s).")

    def save_model(self, request: HttpRequest, obj: Ticket, form: Any, change: bool) -> None:
        # The admin edits through the same service as the API (workflow, audit, events).
        from tickets.services.tickets import STAFF_EDITABLE, update_ticket

        changes = {
            name: form.cleaned_data[name] for name in form.changed_data if name in STAFF_EDITABLE
        }
        if "status" in changes:
            changes["status"] = changes["status"].key
        if changes:
            update_ticket(actor=request.user, ticket_id=obj.pk, changes=changes)


@admin.register(AuditLog)
class AuditLogAdmin(admin.ModelAdmin):
    list_display = ("created_at", "action", "actor", "project", "ticket", "ip_address")
    list_filter = ("action",)
    search_fields = ("action", "request_id")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Attachment)
class AttachmentAdmin(admin.ModelAdmin):
    list_display = ("filename", "ticket", "content_type", "size", "uploaded_by", "created_at")
    readonly_fields = ("sha256", "size", "content_type")


admin.site.register(Watcher)
admin.site.register(
    ClassifierModel, list_display=("project", "target", "version", "is_active", "created_at")
)
admin.site.register(ClassificationFeedback)
admin.site.site_header = "Helpline administration"
