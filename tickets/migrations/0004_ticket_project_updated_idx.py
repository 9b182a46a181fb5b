"""The queue's "recently updated" ordering reads a project's tickets by updated_at from an index.

Built concurrently: the tickets table is the desk's largest and a plain CREATE INDEX would block
every write to it for the build's duration.
"""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("tickets", "0003_ticket_count_deltas"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="ticket",
            index=models.Index(
                fields=["project", "-updated_at"], name="ticket_project_updated_idx"
            ),
        ),
    ]
