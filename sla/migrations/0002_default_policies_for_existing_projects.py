"""Projects created before the SLA engine get the default policies (their tickets start on the
next `manage.py sla_recompute` or on their next change)."""

from django.db import migrations

TARGETS = {"low": (1440, 4320), "medium": (480, 2880), "high": (120, 1440), "critical": (30, 240)}
STEP = {"low": 240, "medium": 120, "high": 60, "critical": 15}


def seed(apps, schema_editor):
    Project = apps.get_model("tickets", "Project")
    SlaPolicy = apps.get_model("sla", "SlaPolicy")
    rows = []
    for project in Project.objects.all():
        for priority, (first, resolution) in TARGETS.items():
            step = STEP[priority]
            rows.append(
                SlaPolicy(
                    project=project,
                    priority=priority,
                    first_response_minutes=first,
                    resolution_minutes=resolution,
                    near_breach_ratio=0.2,
                    escalation_chain=[
                        {"after_minutes": 0, "role": "agent", "reassign": False},
                        {"after_minutes": step, "role": "lead", "reassign": False},
                        {"after_minutes": step, "role": "manager", "reassign": False},
                    ],
                )
            )
    SlaPolicy.objects.bulk_create(rows, ignore_conflicts=True)


class Migration(migrations.Migration):
    dependencies = [("sla", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
