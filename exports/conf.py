"""Export settings: `settings.EXPORT_*` if defined, else the environment variable, else the default.

The environment fallback keeps the desk's "every value from the environment" rule while the
names are not (yet) in config/settings.py; a worker started with EXPORT_PART_SIZE=... uses it.
"""

from __future__ import annotations

import os
from typing import Any

from django.conf import settings

DEFAULTS: dict[str, Any] = {
    # Upload part size. S3 refuses non-final parts under 5 MiB and allows 10,000 parts, so 8 MiB
    # caps one export at ~80 GB while the worker holds at most two parts in memory.
    "EXPORT_PART_SIZE": 8 * 1024 * 1024,
    # How long a finished file stays downloadable before the retention task deletes it.
    "EXPORT_RETENTION_HOURS": 72,
    # A job nobody picked up for this long is failed by the watchdog (no worker, lost message).
    "EXPORT_PENDING_TIMEOUT_SECONDS": 15 * 60,
    # A running job older than this is failed even if its worker still answers; above the Celery
    # hard time limit (30 min), which kills the task first in the normal case.
    "EXPORT_MAX_RUNTIME_SECONDS": 40 * 60,
    # A running job whose worker died is re-queued only after this quiet period, so Celery's own
    # redelivery (acks_late + reject_on_worker_lost) gets the first chance.
    "EXPORT_STALL_GRACE_SECONDS": 60,
    # Runs of one job (first run + retries after a dead worker or a transient error).
    "EXPORT_MAX_ATTEMPTS": 3,
    # Pending + running exports one user may have at once (a POST beyond that is 429).
    "EXPORT_MAX_ACTIVE_PER_USER": 3,
    # How long a run waits for a dying predecessor's database session to let go of the job.
    "EXPORT_LOCK_WAIT_SECONDS": 10,
    # Database sessions one export reads its rows on at once (contiguous ranges of the ordered
    # rows in one shared snapshot; PostgreSQL formats the cells, so this is its CPU in
    # parallel). 1 reads on the job's own session only. At most the database's spare cores.
    "EXPORT_PARALLEL_SESSIONS": 2,
    # Exports with fewer rows than this read on one session (opening sessions costs more).
    "EXPORT_PARALLEL_MIN_ROWS": 20_000,
}


def export_setting(name: str) -> Any:
    """The value of an export setting (Django settings, then the environment, then the default)."""
    default = DEFAULTS[name]
    if hasattr(settings, name):
        return getattr(settings, name)
    raw = os.environ.get(name)
    return type(default)(raw) if raw not in (None, "") else default
