"""Write the default periodic tasks (config.celery.BEAT_SCHEDULE) into django-celery-beat's tables."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from config.celery import BEAT_SCHEDULE


class Command(BaseCommand):
    help = (
        "Create missing periodic tasks; leaves ones an admin has edited alone (--reset overwrites)."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--reset", action="store_true", help="Restore every default cadence.")

    def handle(self, *args: Any, reset: bool = False, **options: Any) -> None:
        created = 0
        for name, (task, seconds, description) in BEAT_SCHEDULE.items():
            interval, _ = IntervalSchedule.objects.get_or_create(
                every=int(seconds), period=IntervalSchedule.SECONDS
            )
            existing = PeriodicTask.objects.filter(name=name).first()
            if existing is None:
                PeriodicTask.objects.create(
                    name=name, task=task, interval=interval, description=description
                )
                created += 1
            elif reset:
                existing.task, existing.interval, existing.description = task, interval, description
                existing.enabled = True
                existing.save()
        self.stdout.write(f"periodic tasks: {created} created, {len(BEAT_SCHEDULE)} defined")
