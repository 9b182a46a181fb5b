"""Rebalance ticket ranks (short keys again) for one project or all, with a progress bar."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from config.redis import redis_lock
from tickets.models import Project
from tickets.services.ranks import rebalance_project
from tickets.tasks import REBALANCE_LOCK_SECONDS


class Command(BaseCommand):
    help = "Rewrite every rank of a project into the next bucket with short, evenly spaced keys."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--project", help="Project key (default: every project).")

    def handle(self, *args: Any, project: str | None = None, **options: Any) -> None:
        projects = Project.objects.order_by("key")
        if project:
            projects = projects.filter(key=project)
            if not projects.exists():
                raise CommandError(f"No project {project!r}.")
        for item in projects:
            with redis_lock(f"rebalance:{item.pk}", timeout=REBALANCE_LOCK_SECONDS) as acquired:
                if not acquired:
                    self.stderr.write(f"{item.key}: a rebalance is already running; skipped.")
                    continue
                with tqdm(desc=item.key, unit="tickets", disable=not self.stdout.isatty()) as bar:

                    def progress(done: int, total: int, bar: Any = bar) -> None:
                        bar.total = total
                        bar.update(done - bar.n)

                    count = rebalance_project(item.pk, progress=progress)
            self.stdout.write(f"{item.key}: {count} tickets rebalanced")
