"""Input and output shapes of the hub's API (the contract in API.md)."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from rest_framework import serializers

from tickets.api.triage import TriageSerializer
from tickets.models import (
    MAX_ID,
    Attachment,
    AuditLog,
    BoardColumn,
    Membership,
    Message,
    Priority,
    Project,
    Role,
    Status,
    StatusCategory,
    Ticket,
    User,
    Watcher,
)


def validate_for_ticket(data: serializers.Serializer[Any], user: Any, ticket_id: int) -> None:
    """Validate a request body about one ticket. A ticket the caller cannot see is a 404 before
    any 400 about the body; a valid body gets that 404 from the service's own read, so only an
    invalid one costs this read."""
    from tickets.selectors import get_visible_ticket

    if not data.is_valid():
        get_visible_ticket(user, ticket_id)
        raise serializers.ValidationError(data.errors)


def iso(value: Any) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


# Output is built by hand for the models every board and ticket read returns: a DRF
# ModelSerializer rebuilds its field set for each instance (~0.3 ms), which on a board of five
# columns and eleven statuses was more than the database's whole share. Inputs still validate
# through the declared fields.


def project_data(project: Project) -> dict[str, Any]:
    return {
        "key": project.key,
        "name": project.name,
        "description": project.description,
        "categories": project.categories,
        "workflow": project.workflow,
        "classification_threshold": project.classification_threshold,
        "created_at": iso(project.created_at),
    }


def status_data(status: Status) -> dict[str, Any]:
    return {
        "key": status.key,
        "name": status.name,
        "description": status.description,
        "category": status.category,
        "color": status.effective_color,
        "category_color": status.category_color,
        "icon": status.icon,
        "order": status.order,
        "is_default": status.is_default,
        "pauses_sla": status.pauses_sla,
    }


class ProjectSerializer(serializers.ModelSerializer[Project]):
    key = serializers.RegexField(
        r"^[A-Z]{2,10}$", error_messages={"invalid": "key is 2-10 upper-case letters."}
    )

    def to_representation(self, instance: Project) -> dict[str, Any]:
        return project_data(instance)

    class Meta:
        model = Project
        fields = [
            "key",
            "name",
            "description",
            "categories",
            "workflow",
            "classification_threshold",
            "created_at",
        ]
        read_only_fields = ["created_at"]


class ProjectUpdateSerializer(serializers.Serializer[Any]):
    name = serializers.CharField(max_length=200, required=False)
    description = serializers.CharField(allow_blank=True, required=False)
    categories = serializers.ListField(
        child=serializers.RegexField(r"^[a-z0-9_-]{1,50}$"),
        min_length=1,
        max_length=50,
        required=False,
    )
    workflow = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()), required=False
    )
    classification_threshold = serializers.FloatField(min_value=0, max_value=1, required=False)


class MemberSerializer(serializers.ModelSerializer[Membership]):
    username = serializers.CharField(source="user.username")
    full_name = serializers.CharField(source="user.full_name", read_only=True)

    class Meta:
        model = Membership
        fields = ["username", "full_name", "role", "created_at"]


class MemberWriteSerializer(serializers.Serializer[Any]):
    username = serializers.CharField(max_length=150)
    role = serializers.ChoiceField(choices=Role.choices)


class RoleSerializer(serializers.Serializer[Any]):
    role = serializers.ChoiceField(choices=Role.choices)


class StatusSerializer(serializers.ModelSerializer[Status]):
    key = serializers.SlugField(max_length=40)
    color = serializers.RegexField(r"^(#[0-9A-Fa-f]{6})?$", required=False, allow_blank=True)
    category = serializers.ChoiceField(choices=StatusCategory.choices)
    category_color = serializers.CharField(read_only=True)

    class Meta:
        model = Status
        fields = [
            "key",
            "name",
            "description",
            "category",
            "color",
            "category_color",
            "icon",
            "order",
            "is_default",
            "pauses_sla",
        ]

    def to_representation(self, instance: Status) -> dict[str, Any]:
        return status_data(instance)


class ColumnSerializer(serializers.ModelSerializer[BoardColumn]):
    status_keys = serializers.ListField(
        child=serializers.CharField(), required=False, write_only=True
    )
    statuses = serializers.SerializerMethodField()
    ticket_count = serializers.SerializerMethodField()
    is_over_limit = serializers.SerializerMethodField()
    is_under_limit = serializers.SerializerMethodField()

    class Meta:
        model = BoardColumn
        fields = [
            "id",
            "name",
            "order",
            "status_keys",
            "statuses",
            "min_limit",
            "max_limit",
            "enforce_wip",
            "is_collapsed",
            "ticket_count",
            "is_over_limit",
            "is_under_limit",
        ]
        extra_kwargs = {"order": {"required": False}}

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        low, high = attrs.get("min_limit"), attrs.get("max_limit")
        if low is not None and high is not None and low > high:
            raise serializers.ValidationError(
                {"min_limit": ["The WIP minimum cannot exceed the maximum."]}
            )
        return attrs

    def to_representation(self, column: BoardColumn) -> dict[str, Any]:
        return {
            "id": column.pk,
            "name": column.name,
            "order": column.order,
            "statuses": self.get_statuses(column),
            "min_limit": column.min_limit,
            "max_limit": column.max_limit,
            "enforce_wip": column.enforce_wip,
            "is_collapsed": column.is_collapsed,
            "ticket_count": self.get_ticket_count(column),
            "is_over_limit": self.get_is_over_limit(column),
            "is_under_limit": self.get_is_under_limit(column),
        }

    def _statuses(self, column: BoardColumn) -> list[Status]:
        return column.shown

    def get_statuses(self, column: BoardColumn) -> list[dict[str, Any]]:
        return [
            status_data(s) for s in sorted(self._statuses(column), key=lambda s: (s.order, s.pk))
        ]

    def get_ticket_count(self, column: BoardColumn) -> int:
        counts: dict[int, int] = self.context.get("counts", {})
        return sum(counts.get(s.pk, 0) for s in self._statuses(column))

    def get_is_over_limit(self, column: BoardColumn) -> bool:
        return column.max_limit is not None and self.get_ticket_count(column) > column.max_limit

    def get_is_under_limit(self, column: BoardColumn) -> bool:
        return column.min_limit is not None and self.get_ticket_count(column) < column.min_limit


class ReorderSerializer(serializers.Serializer[Any]):
    order = serializers.ListField(child=serializers.IntegerField(), min_length=1, max_length=100)


class TicketSerializer(serializers.ModelSerializer[Ticket]):
    """The contract's ticket. Expects select_related project/status/assignee/requester/created_by."""

    class Meta:
        model = Ticket
        fields = ["id"]

    def to_representation(self, t: Ticket) -> dict[str, Any]:
        from sla.selectors import sla_object

        status = t.status
        classification = t.classification
        return {
            "id": t.pk,
            "key": f"{t.project.key}-{t.number}",
            "project": t.project.key,
            "number": t.number,
            "title": t.title,
            "description": t.description,
            "status": status.key,
            "status_name": status.name,
            "status_category": status.category,
            "status_color": status.effective_color,
            "rank": t.rank,
            "priority": t.priority,
            "category": t.category,
            "tags": t.tags,
            "assignee": t.assignee.username if t.assignee_id and t.assignee else None,
            "requester": t.requester.username if t.requester_id and t.requester else None,
            "created_by": t.created_by.username if t.created_by_id and t.created_by else None,
            "linked_type": t.linked_type,
            "linked_id": t.linked_id,
            "is_sensitive": t.is_sensitive,
            "is_archived": t.is_archived,
            "resolution_summary": t.resolution_summary,
            "metadata": t.metadata,
            "sla": sla_object(t, now=self.context.get("now") or timezone.now()),
            "classification": (
                {k: classification.get(k) for k in ("category", "priority", "confidence", "source")}
                if classification
                else None
            ),
            "reopened_count": t.reopened_count,
            "created_at": iso(t.created_at),
            "updated_at": iso(t.updated_at),
            "first_response_at": iso(t.first_response_at),
            "resolved_at": iso(t.resolved_at),
            "closed_at": iso(t.closed_at),
        }


class TicketCreateSerializer(serializers.Serializer[Any]):
    project = serializers.CharField(max_length=10)
    title = serializers.CharField(max_length=300)
    description = serializers.CharField(
        allow_blank=True, required=False, default="", max_length=100_000
    )
    priority = serializers.ChoiceField(choices=Priority.choices, required=False)
    category = serializers.CharField(max_length=50, required=False)
    tags = serializers.ListField(
        child=serializers.CharField(max_length=50), required=False, max_length=50
    )
    assignee = serializers.SlugRelatedField(
        slug_field="username", queryset=User.objects.all(), required=False, allow_null=True
    )
    requester = serializers.SlugRelatedField(
        slug_field="username", queryset=User.objects.all(), required=False, allow_null=True
    )
    linked_type = serializers.CharField(max_length=50, required=False, allow_blank=True, default="")
    linked_id = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    is_sensitive = serializers.BooleanField(required=False, default=False)
    metadata = serializers.DictField(required=False)
    triage = TriageSerializer(required=False)


class TicketUpdateSerializer(serializers.Serializer[Any]):
    title = serializers.CharField(max_length=300, required=False)
    description = serializers.CharField(allow_blank=True, required=False, max_length=100_000)
    status = serializers.CharField(max_length=40, required=False)
    priority = serializers.ChoiceField(choices=Priority.choices, required=False)
    category = serializers.CharField(max_length=50, required=False)
    tags = serializers.ListField(
        child=serializers.CharField(max_length=50), required=False, max_length=50
    )
    assignee = serializers.SlugRelatedField(
        slug_field="username", queryset=User.objects.all(), required=False, allow_null=True
    )
    linked_type = serializers.CharField(max_length=50, required=False, allow_blank=True)
    linked_id = serializers.CharField(max_length=100, required=False, allow_blank=True)
    is_sensitive = serializers.BooleanField(required=False)
    resolution_summary = serializers.CharField(allow_blank=True, required=False, max_length=20_000)
    metadata = serializers.DictField(required=False)
    # Echoed by the board event of the status change, so a browser can recognise its own change.
    client_mutation_id = serializers.CharField(max_length=64, required=False, allow_null=True)


class MoveSerializer(serializers.Serializer[Any]):
    status = serializers.CharField(max_length=40, required=False, allow_null=True)
    before_id = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=MAX_ID
    )
    after_id = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=MAX_ID
    )
    # Echoed by the move's board event, so a browser can ignore the echo of its own move.
    client_mutation_id = serializers.CharField(max_length=64, required=False, allow_null=True)


class AssignSerializer(serializers.Serializer[Any]):
    assignee = serializers.SlugRelatedField(
        slug_field="username", queryset=User.objects.all(), allow_null=True
    )
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class ReasonSerializer(serializers.Serializer[Any]):
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class MessageSerializer(serializers.ModelSerializer[Message]):
    author: serializers.SlugRelatedField[User] = serializers.SlugRelatedField(
        slug_field="username", read_only=True
    )
    body = serializers.CharField(max_length=100_000)
    internal = serializers.BooleanField(required=False, default=False)

    class Meta:
        model = Message
        fields = ["id", "author", "body", "internal", "created_at"]
        read_only_fields = ["id", "author", "created_at"]


class WatchSerializer(serializers.Serializer[Any]):
    notify_in_app = serializers.BooleanField(required=False, default=True)
    notify_email = serializers.BooleanField(required=False, default=True)


class MyWatchSerializer(serializers.Serializer[Any]):
    watching = serializers.BooleanField()
    notify_in_app = serializers.BooleanField()
    notify_email = serializers.BooleanField()


class WatcherSerializer(serializers.ModelSerializer[Watcher]):
    username = serializers.CharField(source="user.username")

    class Meta:
        model = Watcher
        fields = ["username", "notify_in_app", "notify_email", "created_at"]


class AuditSerializer(serializers.ModelSerializer[AuditLog]):
    actor = serializers.SerializerMethodField()

    class Meta:
        model = AuditLog
        fields = ["id", "action", "actor", "payload", "ip_address", "created_at"]

    def get_actor(self, row: AuditLog) -> str | None:
        return row.actor.username if row.actor_id and row.actor else None


class AttachmentSerializer(serializers.ModelSerializer[Attachment]):
    uploaded_by: serializers.SlugRelatedField[User] = serializers.SlugRelatedField(
        slug_field="username", read_only=True
    )
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = Attachment
        fields = [
            "id",
            "filename",
            "content_type",
            "size",
            "sha256",
            "uploaded_by",
            "created_at",
            "download_url",
        ]

    def get_download_url(self, attachment: Attachment) -> str:
        return f"/api/v1/attachments/{attachment.pk}/download/"


class UploadSerializer(serializers.Serializer[Any]):
    file = serializers.FileField(allow_empty_file=True)


class BulkSerializer(serializers.Serializer[Any]):
    ids = serializers.ListField(child=serializers.JSONField(), min_length=1, max_length=500)
    action = serializers.ChoiceField(choices=["assign", "set_status", "set_priority", "archive"])
    value = serializers.JSONField(required=False, allow_null=True)

    def validate_ids(self, value: list[Any]) -> list[Any]:
        """Ids that are not numbers come back one by one as "Not a ticket id"; objects and lists
        cannot even be told apart (they are not hashable), so they refuse the whole request."""
        if any(isinstance(item, dict | list) for item in value):
            raise serializers.ValidationError("Each id is a number (or a string of digits).")
        return value
