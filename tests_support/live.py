"""Real processes for end-to-end tests: gunicorn, uvicorn and Celery workers on the test database.

They run the project's own entry points with `config.settings_test` and `DATABASE_URL` pointing at
the database pytest-django created, so tests using them must commit (`transactional_db`).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from django.db import connection

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent


def wait_for(
    condition: Callable[[], Any], timeout: float = 120.0, what: str = "", step: float = 0.05
) -> Any:
    """Poll `condition` until it returns something truthy (returned), or fail after `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(step)
    raise AssertionError(f"timed out after {timeout}s waiting for {what or condition}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def process_env(**extra: str) -> dict[str, str]:
    """The environment of a child process: the test database and the suite's Redis database."""
    from django.conf import settings

    db = connection.settings_dict
    url = f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    # The child gets this worker's Redis database as TEST_REDIS_URL; without the xdist marker it
    # would count down from it a second time.
    inherited = {k: v for k, v in os.environ.items() if k != "PYTEST_XDIST_WORKER"}
    env = {
        **inherited,
        "DJANGO_SETTINGS_MODULE": "config.settings_test",
        "HELPLINE_TESTING": "1",
        "DATABASE_URL": url,
        "TEST_REDIS_URL": settings.REDIS_URL,
        "LOG_JSON": "1",
        "PYTHONUNBUFFERED": "1",
    }
    env.update(extra)
    return env


def wait_for_port(port: int, proc: subprocess.Popen[bytes], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"process exited early with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listened on {port} within {timeout}s")


def wait_until_serving(url: str, proc: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    """Gunicorn's master listens before its worker has imported Django: wait for a real answer."""
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"process exited early with {proc.returncode}")
        try:
            if httpx.get(url, timeout=timeout).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"{url} did not answer 200 within {timeout}s")


def stop(proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM, timeout: float = 10.0) -> None:
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def gunicorn_log(base: str) -> Path:
    """Where the gunicorn serving `base` writes its output (one file per port)."""
    return ROOT / ".data" / f"gunicorn-{base.rsplit(':', 1)[-1]}.log"


@contextmanager
def gunicorn_server(workers: int = 1, **env: str) -> Iterator[str]:
    """The WSGI API under gunicorn; yields its base URL."""
    with gunicorn_process(workers, **env) as (base, _proc):
        yield base


@contextmanager
def gunicorn_process(
    workers: int = 1, *, args: Sequence[str] = (), **env: str
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """The WSGI API under gunicorn with extra command-line `args`; yields its URL and the master."""
    port = free_port()
    log = open(gunicorn_log(f"http://127.0.0.1:{port}"), "wb")
    proc = subprocess.Popen(
        [str(VENV_BIN / "gunicorn"), "-c", str(ROOT / "gunicorn.conf.py"), *args],
        cwd=ROOT,
        env=process_env(
            **{"HOST": "127.0.0.1", "API_PORT": str(port), "WEB_WORKERS": str(workers), **env}
        ),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for_port(port, proc)
        base = f"http://127.0.0.1:{port}"
        wait_until_serving(f"{base}/healthz", proc)
        yield base, proc
    finally:
        stop(proc)
        log.close()


@contextmanager
def asgi_server(**env: str) -> Iterator[str]:
    """The WebSocket server under uvicorn; yields its ws:// base URL."""
    port = free_port()
    log = open(ROOT / ".data" / f"uvicorn-{port}.log", "wb")
    proc = subprocess.Popen(
        [
            str(VENV_BIN / "uvicorn"),
            "config.asgi:application",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-access-log",
        ],
        cwd=ROOT,
        env=process_env(**env),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for_port(port, proc)
        yield f"ws://127.0.0.1:{port}"
    finally:
        stop(proc)
        log.close()


@contextmanager
def celery_worker(
    concurrency: int = 1, queue: str | None = None, **env: str
) -> Iterator[subprocess.Popen[bytes]]:
    """A real Celery worker process on the suite's broker; yields the process (tests may kill it).

    Its output goes to `.data/celery-<test process id>-<start>.log` (`worker_log_path`)."""
    from django.conf import settings

    queue = queue or f"{settings.CELERY_TASK_DEFAULT_QUEUE},sla"  # every queue the desk routes to
    log_path = worker_log_path(time.monotonic_ns())
    log = open(log_path, "wb")
    proc = subprocess.Popen(
        [
            str(VENV_BIN / "celery"),
            "-A",
            "config",
            "--quiet",  # no banner: every line is a log record (the Procfile's lines do the same)
            "worker",
            "--loglevel",
            "INFO",
            "--pool",
            "prefork",
            "--concurrency",
            str(concurrency),
            "--queues",
            queue,
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-n",
            f"test-{time.monotonic_ns()}@%h",
        ],
        cwd=ROOT,
        env=process_env(**env),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        _wait_for_worker(log_path, proc)
        yield proc
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        log.close()


def worker_log_path(started: int | None = None) -> Path:
    """A worker's log file; without `started`, the newest one this test process started."""
    if started is not None:
        return ROOT / ".data" / f"celery-{os.getpid()}-{started}.log"
    logs = (ROOT / ".data").glob(f"celery-{os.getpid()}-*.log")
    return max(logs, key=lambda path: int(path.stem.rsplit("-", 1)[1]))


def _wait_for_worker(log_path: Path, proc: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"worker exited early:\n{log_path.read_text()[-3000:]}")
        if b"ready." in log_path.read_bytes():
            return
        time.sleep(0.1)
    raise TimeoutError(f"worker not ready:\n{log_path.read_text()[-3000:]}")
