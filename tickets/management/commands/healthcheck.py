"""Container healthchecks for the roles that serve no HTTP: a Celery worker and beat.

`healthcheck worker` / `healthcheck sla`: the worker named `<role>@<this host>` (the Procfile's
`--hostname`) answers a remote-control ping over the broker. `healthcheck beat`: the newest
`last_run_at` of the enabled periodic tasks is recent (beat writes it after each task it sends,
`beat_sync_every=1`). Exit status 0 when healthy, 1 otherwise, with one line saying why.
"""

from __future__ import annotations

import socket
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db.models import Max
from django.utils import timezone
from django_celery_beat.models import PeriodicTask


class Command(BaseCommand):
    help = "Exit 0 when this container's role (worker, sla or beat) is healthy, 1 otherwise."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("role", choices=["worker", "sla", "beat"])
        parser.add_argument("--host", default="", help="Worker host name (default: this host).")
        parser.add_argument("--timeout", type=float, default=5.0)

    def handle(self, *args: Any, role: str, host: str, timeout: float, **options: Any) -> None:
        if role == "beat":
            self._beat()
        else:
            self._worker(f"{role}@{host or socket.gethostname()}", timeout)

    def _worker(self, name: str, timeout: float) -> None:
        from config.celery import app

        replies = app.control.ping(destination=[name], timeout=timeout)
        if not any(name in reply for reply in replies):
            raise CommandError(f"{name} did not answer a ping within {timeout}s", returncode=1)
        self.stdout.write(f"{name}: ok")

    def _beat(self) -> None:
        newest = PeriodicTask.objects.filter(enabled=True).aggregate(at=Max("last_run_at"))["at"]
        limit = timedelta(seconds=settings.BEAT_HEALTH_MAX_AGE_SECONDS)
        if newest is None or timezone.now() - newest > limit:
            raise CommandError(f"beat sent no task since {newest} (limit {limit})", returncode=1)
        self.stdout.write(f"beat: last task sent at {newest.isoformat()}")
