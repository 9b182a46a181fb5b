"""Export jobs: who asked for which tickets, in which format, and where the file ended up."""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q


class ExportFormat(models.TextChoices):
    CSV = "csv"
    JSONL = "jsonl"


class ExportStatus(models.TextChoices):
    PENDING = "pending"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    EXPIRED = "expired"


ACTIVE_STATUSES = (ExportStatus.PENDING, ExportStatus.RUNNING)


class ExportJob(models.Model):
    """One export: pending -> running -> succeeded | failed, later expired (file deleted)."""

    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="exports"
    )
    project = models.ForeignKey("tickets.Project", on_delete=models.CASCADE, related_name="exports")
    format = models.CharField(max_length=8, choices=ExportFormat.choices)
    # The ticket-list filters as validated at request time (TicketFilters.as_json()).
    filters = models.JSONField(default=dict, blank=True)
    fields = ArrayField(models.CharField(max_length=40))
    bom = models.BooleanField(default=False)
    # Fixed at request: tickets created later are not exported, whenever the job runs.
    as_of = models.DateTimeField()
    status = models.CharField(
        max_length=12, choices=ExportStatus.choices, default=ExportStatus.PENDING
    )
    rows_done = models.PositiveBigIntegerField(default=0)
    rows_total = models.PositiveBigIntegerField(null=True, blank=True)
    # Which store holds the file ("filesystem" or "s3"), so a later configuration change does
    # not strand existing files.
    storage = models.CharField(max_length=16, blank=True)
    file_key = models.CharField(max_length=512, blank=True)
    file_size = models.PositiveBigIntegerField(null=True, blank=True)
    checksum_sha256 = models.CharField(max_length=64, blank=True)
    error = models.TextField(blank=True)
    # Runs started so far; a run only writes while the row still carries its own number.
    attempts = models.PositiveSmallIntegerField(default=0)
    worker = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    queued_at = models.DateTimeField()
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at", "-id")
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=ExportStatus.values), name="exportjob_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(format__in=ExportFormat.values), name="exportjob_format_valid"
            ),
            models.CheckConstraint(
                condition=Q(bom=False) | Q(format=ExportFormat.CSV), name="exportjob_bom_csv_only"
            ),
            # "Succeeded" is only ever shown with a file and its checksum behind it.
            models.CheckConstraint(
                condition=~Q(status=ExportStatus.SUCCEEDED)
                | (~Q(file_key="") & ~Q(checksum_sha256="") & Q(file_size__isnull=False)),
                name="exportjob_succeeded_has_file",
            ),
            # One job, one object: retries overwrite the same key, two jobs never share one.
            models.UniqueConstraint(
                fields=["file_key"], condition=~Q(file_key=""), name="exportjob_file_key_unique"
            ),
        ]
        indexes = [
            models.Index(
                fields=["requester", "-created_at", "-id"], name="exportjob_requester_idx"
            ),
            models.Index(
                fields=["status", "queued_at"],
                name="exportjob_active_idx",
                condition=Q(status__in=ACTIVE_STATUSES),
            ),
            models.Index(
                fields=["expires_at"],
                name="exportjob_expiry_idx",
                condition=Q(status=ExportStatus.SUCCEEDED),
            ),
        ]

    def __str__(self) -> str:
        return f"export #{self.pk} ({self.format}, {self.status})"

    @property
    def extension(self) -> str:
        return "csv" if self.format == ExportFormat.CSV else "jsonl"

    @property
    def filename(self) -> str:
        """The download's file name: project, as-of instant and job id."""
        stamp = self.as_of.strftime("%Y%m%dT%H%M%SZ")
        return f"{self.project.key}-tickets-{stamp}-{self.pk}.{self.extension}"
