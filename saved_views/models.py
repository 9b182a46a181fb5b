"""A saved view: a named set of ticket-list filters belonging to one user.

Sharing is by link: the view's `query_string` is the queue's own query string
(`/tickets?status=new,open&q=printer`), so whoever opens it sees the tickets *they* may see with
those filters. No sharing permissions exist or are needed.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from tickets.models import Project


class SavedView(models.Model):
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_views"
    )
    name = models.CharField(max_length=100)
    # The normalised filters (`TicketFilters.as_json()`), validated by `parse_ticket_filters`.
    query = models.JSONField(default=dict, blank=True)
    # Where the view is offered (its queue's project); null: everywhere.
    project = models.ForeignKey(
        Project, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("owner", "name", "id")
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="saved_view_owner_name_unique")
        ]

    def __str__(self) -> str:
        return f"{self.owner_id}: {self.name}"
