"""Where per-process series live: prometheus-client's multiprocess mode when the web server forks.

gunicorn runs several worker processes behind one port, so a scrape reaches one of them: with
`PROMETHEUS_MULTIPROC_DIR` set (the image and `make run` set it) every worker writes its series
to files there and `/metrics` sums them. Without it (tests, a single process) the default
registry answers.
"""

from __future__ import annotations

from django.conf import settings
from prometheus_client import CollectorRegistry, multiprocess


def multiprocess_dir() -> str:
    return str(settings.PROMETHEUS_MULTIPROC_DIR or "")


def process_registry() -> CollectorRegistry:
    """The registry whose series this scrape reports: every worker's files, or this process's."""
    if multiprocess_dir():
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path=multiprocess_dir())
        return registry
    from prometheus_client import REGISTRY

    return REGISTRY
