"""The hub's data: people, projects, statuses, board columns, tickets and their conversation.

Enums are TextChoices backed by database check constraints; ranks are byte-ordered strings (see
`tickets.ranking`), unique per project.
"""

from __future__ import annotations

import pgtrigger
from django.contrib.auth.models import AbstractUser
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.db.models import Q


def _choices_check(
    field: str, choices: type[models.TextChoices], name: str
) -> models.CheckConstraint:
    return models.CheckConstraint(condition=Q(**{f"{field}__in": choices.values}), name=name)


class User(AbstractUser):
    """A person: site admins are superusers; project roles live on Membership."""

    full_name = models.CharField(max_length=200, blank=True)

    class Meta:
        db_table = "helpline_user"

    def __str__(self) -> str:
        return self.username

    @property
    def display_name(self) -> str:
        return self.full_name or self.username


# The largest id a bigint primary key can hold: an id beyond it names nothing (and compared with
# a bigint column it would make PostgreSQL compare as numeric, off the primary key's index).
MAX_ID = 2**63 - 1


class Role(models.TextChoices):
    CUSTOMER = "customer"
    AGENT = "agent"
    LEAD = "lead"
    MANAGER = "manager"
    ADMIN = "admin"


ROLE_RANK: dict[str, int] = {role: i for i, role in enumerate(Role.values)}


class Priority(models.TextChoices):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


PRIORITY_RANK: dict[str, int] = {p: i for i, p in enumerate(Priority.values)}
DEFAULT_CATEGORIES = ["billing", "technical", "account", "general"]


def default_categories() -> list[str]:
    return list(DEFAULT_CATEGORIES)


def default_workflow() -> dict[str, list[str]]:
    # From-status key -> the only statuses it may move to. A key not listed may go anywhere.
    return {"closed": ["open"]}


class Project(models.Model):
    key = models.CharField(max_length=10, unique=True)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    categories = ArrayField(models.CharField(max_length=50), default=default_categories)
    workflow = models.JSONField(default=default_workflow, blank=True)
    # Next ticket number is taken with one UPDATE ... RETURNING (row lock until commit).
    ticket_counter = models.PositiveIntegerField(default=0)
    # The rank bucket new ranks go to when the project has no tickets; a rebalance rotates it.
    rank_bucket = models.PositiveSmallIntegerField(default=0)
    classification_threshold = models.FloatField(default=0.6)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("key",)
        constraints = [
            models.CheckConstraint(
                condition=Q(key__regex=r"^[A-Z]{2,10}$"), name="project_key_format"
            ),
            models.CheckConstraint(
                condition=Q(rank_bucket__in=[0, 1, 2]), name="project_rank_bucket"
            ),
            models.CheckConstraint(
                condition=Q(classification_threshold__gte=0) & Q(classification_threshold__lte=1),
                name="project_classification_threshold_range",
            ),
        ]

    def __str__(self) -> str:
        return self.key


class Membership(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.AGENT)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "project"], name="membership_unique"),
            _choices_check("role", Role, "membership_role_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.project} ({self.role})"


class StatusCategory(models.TextChoices):
    TODO = "todo"
    IN_PROGRESS = "in_progress"
    DONE = "done"


CATEGORY_COLORS: dict[str, str] = {
    StatusCategory.TODO: "#42526E",
    StatusCategory.IN_PROGRESS: "#0052CC",
    StatusCategory.DONE: "#00875A",
}


class Status(models.Model):
    """A global status; projects map statuses onto their own board columns."""

    key = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=80)
    description = models.TextField(blank=True)
    category = models.CharField(max_length=16, choices=StatusCategory.choices)
    color = models.CharField(max_length=7, blank=True)
    icon = models.CharField(max_length=40, blank=True)
    order = models.PositiveIntegerField(default=0)
    is_default = models.BooleanField(default=False)
    pauses_sla = models.BooleanField(default=False)

    class Meta:
        ordering = ("order", "id")
        verbose_name_plural = "statuses"
        constraints = [
            _choices_check("category", StatusCategory, "status_category_valid"),
            models.CheckConstraint(
                condition=Q(color="") | Q(color__regex=r"^#[0-9A-Fa-f]{6}$"),
                name="status_color_hex",
            ),
        ]

    def __str__(self) -> str:
        return self.key

    @property
    def category_color(self) -> str:
        return CATEGORY_COLORS[self.category]

    @property
    def effective_color(self) -> str:
        return self.color or self.category_color


class BoardColumn(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="columns")
    name = models.CharField(max_length=80)
    order = models.PositiveIntegerField(default=0)
    statuses = models.ManyToManyField(Status, through="ColumnStatus", related_name="columns")
    min_limit = models.PositiveIntegerField(null=True, blank=True)
    max_limit = models.PositiveIntegerField(null=True, blank=True)
    enforce_wip = models.BooleanField(default=False)
    is_collapsed = models.BooleanField(default=False)

    # The statuses the column shows, in link order: filled by `tickets.selectors.columns_of` (as a
    # `Prefetch(..., to_attr=...)` would fill a list attribute); not a field.
    shown: list[Status]

    class Meta:
        ordering = ("order", "id")
        constraints = [
            models.CheckConstraint(
                condition=Q(min_limit__isnull=True)
                | Q(max_limit__isnull=True)
                | Q(min_limit__lte=models.F("max_limit")),
                name="column_limits_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.project.key}: {self.name}"


class ColumnStatus(models.Model):
    """A status shown in a column; unique per project so a status maps to at most one column."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    column = models.ForeignKey(BoardColumn, on_delete=models.CASCADE, related_name="status_links")
    status = models.ForeignKey(Status, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "status"], name="column_status_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.column_id}:{self.status_id}"


class Ticket(models.Model):
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="tickets")
    number = models.PositiveIntegerField()
    title = models.CharField(max_length=300)
    description = models.TextField(blank=True)
    status = models.ForeignKey(Status, on_delete=models.PROTECT, related_name="tickets")
    rank = models.CharField(max_length=128, db_collation="C")
    priority = models.CharField(max_length=10, choices=Priority.choices, default=Priority.MEDIUM)
    category = models.CharField(max_length=50, default="general")
    tags = ArrayField(models.CharField(max_length=50), default=list, blank=True)
    assignee = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="assigned_tickets"
    )
    requester = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="requested_tickets"
    )
    created_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="created_tickets"
    )
    linked_type = models.CharField(max_length=50, blank=True)
    linked_id = models.CharField(max_length=100, blank=True)
    is_sensitive = models.BooleanField(default=False)
    is_archived = models.BooleanField(default=False)
    resolution_summary = models.TextField(blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    classification = models.JSONField(null=True, blank=True)
    escalation_level = models.PositiveSmallIntegerField(default=0)
    reopened_count = models.PositiveIntegerField(default=0)
    first_response_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Weighted title (A), description (B) and public messages (C); kept by the write path.
    search_vector = SearchVectorField(null=True, editable=False)

    class Meta:
        ordering = ("rank", "id")
        constraints = [
            models.UniqueConstraint(fields=["project", "number"], name="ticket_number_unique"),
            models.UniqueConstraint(fields=["project", "rank"], name="ticket_rank_unique"),
            _choices_check("priority", Priority, "ticket_priority_valid"),
            models.CheckConstraint(
                condition=Q(rank__regex=r"^[012]\|[0-9A-Za-z]+$"), name="ticket_rank_format"
            ),
        ]
        indexes = [
            models.Index(
                fields=["project", "status", "rank"],
                name="ticket_board_idx",
                condition=Q(is_archived=False),
            ),
            models.Index(fields=["project", "-created_at"], name="ticket_project_created_idx"),
            # The queue's "recently updated" ordering: without it a project's newest-updated page
            # sorts every matching row (1 s over 1M tickets).
            models.Index(fields=["project", "-updated_at"], name="ticket_project_updated_idx"),
            models.Index(fields=["assignee", "-created_at"], name="ticket_assignee_idx"),
            models.Index(fields=["requester", "-created_at"], name="ticket_requester_idx"),
            GinIndex(fields=["search_vector"], name="ticket_search_idx"),
            GinIndex(fields=["tags"], name="ticket_tags_idx"),
        ]

    def __str__(self) -> str:
        return self.key

    @property
    def key(self) -> str:
        return f"{self.project.key}-{self.number}"


class Message(models.Model):
    """A public reply or an internal note (never shown to customers)."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    body = models.TextField()
    internal = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("created_at", "id")
        indexes = [models.Index(fields=["ticket", "created_at"], name="message_ticket_idx")]

    def __str__(self) -> str:
        return f"message #{self.pk} on ticket {self.ticket_id}"


class Watcher(models.Model):
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="watchers")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="watching")
    notify_in_app = models.BooleanField(default=True)
    notify_email = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["ticket", "user"], name="watcher_unique")]

    def __str__(self) -> str:
        return f"{self.user_id} watches {self.ticket_id}"


class Attachment(models.Model):
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to="attachments/%Y/%m/")
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("created_at", "id")

    def __str__(self) -> str:
        return self.filename


class TicketCountDelta(models.Model):
    """Board counts as deltas: database triggers on tickets_ticket append +n/-n per (project,
    status) for every insert, delete, status change and (un)archive; a column's count is the
    sum. Appends never wait on each other (a single counter row per status would serialise every
    status change of a project), and `compact_ticket_counts` folds the rows every minute, so a
    100k-ticket board reads a handful of rows instead of counting 100k (docs/adr/0005).
    Written only by the triggers and the compaction; never by application code."""

    project = models.ForeignKey(
        Project, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    status = models.ForeignKey(
        Status, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    n = models.IntegerField()

    class Meta:
        indexes = [models.Index(fields=["project", "status"], name="count_delta_idx")]

    def __str__(self) -> str:
        return f"{self.project_id}/{self.status_id}: {self.n:+d}"


@pgtrigger.register(
    pgtrigger.Protect(name="audit_append_only_update", operation=pgtrigger.Update),
    pgtrigger.Protect(name="audit_append_only_delete", operation=pgtrigger.Delete),
)
class AuditLog(models.Model):
    """Append-only: a database trigger refuses UPDATE and DELETE."""

    project = models.ForeignKey(
        Project, null=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    ticket = models.ForeignKey(
        Ticket, null=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    actor = models.ForeignKey(
        User, null=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    action = models.CharField(max_length=60)
    payload = models.JSONField(default=dict)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    request_id = models.CharField(max_length=128, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("created_at", "id")
        indexes = [models.Index(fields=["ticket", "created_at"], name="audit_ticket_idx")]

    def __str__(self) -> str:
        return f"{self.action} #{self.pk}"


class ClassifierModel(models.Model):
    """A trained offline classifier for one project (the newest active one is used)."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="classifiers")
    target = models.CharField(max_length=20, default="category")  # category | priority
    version = models.CharField(max_length=80)
    blob = models.BinaryField()
    metrics = models.JSONField(default=dict)
    labels = models.JSONField(default=list)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("-created_at", "-id")
        constraints = [
            models.UniqueConstraint(
                fields=["project", "target", "version"], name="classifier_version_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.project_id} {self.target} {self.version}"


class ClassificationFeedback(models.Model):
    """What an agent did with a suggestion: accepted or overrode it (for per-class precision)."""

    ticket = models.ForeignKey(
        Ticket, on_delete=models.CASCADE, related_name="classification_feedback"
    )
    field = models.CharField(max_length=20)  # category | priority
    suggested = models.CharField(max_length=50)
    final = models.CharField(max_length=50)
    source = models.CharField(max_length=20)
    model_version = models.CharField(max_length=80, blank=True)
    actor = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.field}: {self.suggested} -> {self.final}"

    @property
    def accepted(self) -> bool:
        return self.suggested == self.final
