"""gunicorn.conf.py: the values come from the settings, no shared control socket, no 414."""

from __future__ import annotations

import json
import subprocess
import tempfile
import time
from pathlib import Path

import httpx
import pytest

from tests_support.live import (
    ROOT,
    VENV_BIN,
    free_port,
    gunicorn_log,
    gunicorn_server,
    process_env,
    stop,
    wait_until_serving,
)


def printed_config(**env: str) -> dict[str, str]:
    out = subprocess.run(
        [str(VENV_BIN / "gunicorn"), "-c", str(ROOT / "gunicorn.conf.py"), "--print-config"],
        cwd=ROOT,
        env=process_env(**env),
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return {
        key.strip(): value.strip()
        for key, _, value in (line.partition("=") for line in out.splitlines())
    }


@pytest.mark.django_db
def test_every_value_comes_from_the_settings():
    config = printed_config(
        HOST="0.0.0.0",
        API_PORT="9123",
        WEB_WORKERS="3",
        WEB_THREADS="4",
        WEB_TIMEOUT="45",
        WEB_GRACEFUL_TIMEOUT="21",
        WEB_KEEPALIVE="7",
        WEB_MAX_REQUESTS="500",
        LOG_LEVEL="warning",
    )
    assert {
        key: config[key]
        for key in (
            "bind",
            "workers",
            "threads",
            "timeout",
            "graceful_timeout",
            "keepalive",
            "max_requests",
            "max_requests_jitter",
            "control_socket_disable",
            "limit_request_line",
            "limit_request_fields",
            "limit_request_field_size",
            "accesslog",
            "loglevel",
            "wsgi_app",
        )
    } == {
        "bind": "['0.0.0.0:9123']",
        "workers": "3",
        "threads": "4",
        "timeout": "45",
        "graceful_timeout": "21",
        "keepalive": "7",
        "max_requests": "500",
        "max_requests_jitter": "50",
        "control_socket_disable": "True",
        "limit_request_line": "0",
        "limit_request_fields": "100",  # gunicorn's defaults
        "limit_request_field_size": "8190",
        "accesslog": "None",
        "loglevel": "warning",
        "wsgi_app": "config.wsgi:application",
    }


def wait_for_entries(directory: Path, seconds: float) -> list[str]:
    """The names in `directory` once something appears there, or [] after `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        names = sorted(p.name for p in directory.iterdir())
        if names:
            return names
        time.sleep(0.05)
    return []


@pytest.mark.live
@pytest.mark.django_db(transaction=True)
def test_two_instances_share_no_control_socket_and_a_long_query_reaches_django(tmp_path: Path):
    runtime = Path(tempfile.mkdtemp(prefix="xdg-"))  # short: a Unix socket path has ~107 bytes
    long_query = "q=" + "x" * 6000
    # The positive control: gunicorn without the file puts its socket there (soon after its
    # workers start), and answers the long request line with its own HTML 414.
    port = free_port()
    log = (tmp_path / "plain.log").open("wb")
    plain = subprocess.Popen(
        # Started elsewhere: gunicorn reads ./gunicorn.conf.py by default.
        [
            *(str(VENV_BIN / "gunicorn"), "config.wsgi:application"),
            *("--bind", f"127.0.0.1:{port}", "--chdir", str(ROOT)),
        ],
        cwd=tmp_path,
        env=process_env(XDG_RUNTIME_DIR=str(runtime)),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_until_serving(f"http://127.0.0.1:{port}/healthz", plain)
        assert wait_for_entries(runtime, 10) == ["gunicorn.ctl"]
        too_long = httpx.get(f"http://127.0.0.1:{port}/healthz?{long_query}")
        assert too_long.status_code == 414
    finally:
        stop(plain)
        log.close()
    assert wait_for_entries(runtime, 0.1) == []  # removed on exit (the hazard)
    with (
        gunicorn_server(XDG_RUNTIME_DIR=str(runtime)) as first,
        gunicorn_server(XDG_RUNTIME_DIR=str(runtime)) as second,
    ):
        assert httpx.get(f"{second}/healthz?{long_query}").status_code == 200
        assert httpx.get(f"{first}/healthz?{long_query}").status_code == 200
        assert wait_for_entries(runtime, 3) == []


@pytest.mark.live
@pytest.mark.django_db(transaction=True)
def test_every_line_gunicorn_writes_is_one_json_object(tmp_path: Path):
    with gunicorn_server(LOG_LEVEL="DEBUG") as base:
        assert httpx.get(f"{base}/healthz", headers={"X-Request-ID": "rid-gunicorn-1"}).is_success
    # Its own file: under xdist another worker's gunicorn may have written since.
    lines = [line for line in gunicorn_log(base).read_text().splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]  # raises on any plain-text line
    loggers = {record.get("logger") for record in records}
    assert {"gunicorn.error", "helpline.request"} <= loggers
    request = [r for r in records if r.get("logger") == "helpline.request"]
    # The readiness probe's requests first, then ours, with the id it sent.
    assert (request[-1]["request_id"], request[-1]["path"], request[-1]["status"]) == (
        "rid-gunicorn-1",
        "/healthz",
        200,
    )
    assert all(record["level"] in {"debug", "info", "warning"} for record in records)
