"""Board events (the sequenced log clients replay), in-app notifications and webhooks."""

from __future__ import annotations

from django.db import models


class BoardEventCounter(models.Model):
    """The last `seq` handed out for a project's board. Locked by the writer for the transaction,
    so events commit in `seq` order and no reader ever sees seq N+1 before N."""

    project = models.OneToOneField(
        "tickets.Project", on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    last_seq = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.project_id}@{self.last_seq}"


class BoardEvent(models.Model):
    project = models.ForeignKey("tickets.Project", on_delete=models.CASCADE, related_name="+")
    seq = models.PositiveBigIntegerField()
    type = models.CharField(max_length=60)
    data = models.JSONField(default=dict)
    # Events about one ticket carry it, so a customer's stream can be limited to their own tickets.
    ticket_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("project", "seq")
        constraints = [
            models.UniqueConstraint(fields=["project", "seq"], name="board_event_seq_unique"),
        ]
        indexes = [models.Index(fields=["created_at"], name="board_event_created_idx")]

    def __str__(self) -> str:
        return f"{self.project_id}#{self.seq} {self.type}"
