"""Create the contract's default global statuses."""

from django.db import migrations

DEFAULT_STATUSES = [
    # key, name, category, pauses_sla, description
    ("new", "New", "todo", False, "Just raised; nobody has looked yet."),
    ("open", "Open", "todo", False, "Triaged and waiting to be picked up."),
    ("todo", "To Do", "todo", False, "Planned work not started."),
    ("in_progress", "In Progress", "in_progress", False, "Someone is working on it."),
    ("in_review", "In Review", "in_progress", False, "Done, waiting for a second pair of eyes."),
    ("blocked", "Blocked", "in_progress", False, "Cannot go on until something changes."),
    ("awaiting_customer", "Awaiting Customer", "in_progress", True, "Waiting for the customer's answer."),
    ("awaiting_third_party", "Awaiting Third Party", "in_progress", True, "Waiting for a vendor or another team."),
    ("resolved", "Resolved", "done", False, "Fixed; the customer may still reopen it."),
    ("done", "Done", "done", False, "Finished."),
    ("closed", "Closed", "done", False, "Finished and closed for good."),
]


def create(apps, schema_editor):
    Status = apps.get_model("tickets", "Status")
    for order, (key, name, category, pauses, description) in enumerate(DEFAULT_STATUSES):
        Status.objects.update_or_create(
            key=key,
            defaults={
                "name": name,
                "category": category,
                "pauses_sla": pauses,
                "description": description,
                "order": order,
                "is_default": key == "new",
            },
        )


def remove(apps, schema_editor):
    apps.get_model("tickets", "Status").objects.filter(key__in=[s[0] for s in DEFAULT_STATUSES]).delete()


class Migration(migrations.Migration):
    dependencies = [("tickets", "0001_initial")]
    operations = [migrations.RunPython(create, remove)]
