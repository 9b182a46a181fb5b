"""gunicorn's configuration, the one both the Procfile (`make run`) and the image use.

Every value comes from the Django settings module (config/settings.py reads the environment),
so gunicorn and Django agree and nothing here reads the environment itself except which
settings module to load. Logging is the settings' LOGGING: gunicorn's lines are structured too.
"""

from __future__ import annotations

import importlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

# The settings give web processes their database guard (statement and lock timeouts).
os.environ.setdefault("HELPLINE_PROCESS", "web")
_settings: Any = importlib.import_module(
    os.environ.get("DJANGO_SETTINGS_MODULE", "config.settings")
)

# The workers' request metrics are summed over processes (prometheus-client's multiprocess mode,
# config/metrics/registry.py): a directory per gunicorn instance unless one is configured. The
# workers inherit it through the environment (prometheus-client reads it there at import) and
# through the settings module this master already loaded.
_metrics_dir = _settings.PROMETHEUS_MULTIPROC_DIR or tempfile.mkdtemp(prefix="helpline-metrics-")
_settings.PROMETHEUS_MULTIPROC_DIR = _metrics_dir
os.environ["PROMETHEUS_MULTIPROC_DIR"] = _metrics_dir

wsgi_app = "config.wsgi:application"
bind = [f"{_settings.HOST}:{_settings.API_PORT}"]
workers = _settings.WEB_WORKERS
threads = _settings.WEB_THREADS  # >1 switches gunicorn to its gthread worker
timeout = _settings.WEB_TIMEOUT
graceful_timeout = _settings.WEB_GRACEFUL_TIMEOUT
keepalive = _settings.WEB_KEEPALIVE
max_requests = _settings.WEB_MAX_REQUESTS
max_requests_jitter = max_requests // 10
# gunicorn >= 25.1 opens a control socket at one per-user path ($XDG_RUNTIME_DIR or
# ~/.gunicorn/gunicorn.ctl): a second instance on the machine takes it over and removes it on exit.
# Nothing here uses gunicornc, so there is none.
control_socket_disable = True
# No limit on the request line here: Django answers an oversized one with a 4xx in the envelope
# instead of gunicorn's HTML 414. The header limits keep gunicorn's defaults.
limit_request_line = 0
accesslog = None  # one structured line per request comes from config.middleware
# With a logconfig_dict gunicorn writes its access line anyway (at INFO, whatever the root level):
# a second line per request (~0.1 ms of CPU each, about 1% of a request in bench/bench_load.py).
logconfig_dict = {
    **_settings.LOGGING,
    "loggers": {
        **_settings.LOGGING["loggers"],
        "gunicorn.access": {"handlers": [], "propagate": True, "level": "WARNING"},
    },
}
loglevel = _settings.LOG_LEVEL.lower()


def on_starting(server: object) -> None:
    """Multiprocess metrics: a given directory is emptied (the previous run's files would be
    summed in); without one, this instance gets a fresh private directory."""
    directory = Path(_metrics_dir)
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.db"):
        stale.unlink()


def on_exit(server: object) -> None:
    if not _settings.PROMETHEUS_MULTIPROC_DIR:
        shutil.rmtree(_metrics_dir, ignore_errors=True)


def child_exit(server: object, worker: object) -> None:
    """A dead worker's live gauges leave the shared metrics directory."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(getattr(worker, "pid", 0), _metrics_dir)


def post_worker_init(worker: object) -> None:
    """Import the URLconf (and the views it pulls in, scikit-learn among them: ~1.5 s of CPU)
    before this worker accepts a connection, not inside its first request: under load that first
    request stalled for seconds with others queued behind it (bench/bench_load.py)."""
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 (the property imports the modules)
