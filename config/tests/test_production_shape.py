"""The production files, read: Docker does not run here, so the compose file, the Dockerfile,
.dockerignore, the Caddyfile and the entrypoint are parsed (and the entrypoint run) and checked
against the Procfile, the documented settings (.env.example) and the Celery routing."""

from __future__ import annotations

import fnmatch
import os
import re
import stat
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from django.http.request import validate_host
from django.urls import resolve

ROOT = Path(__file__).resolve().parents[2]
APP_ROLES = {"migrate", "web", "ws", "worker", "sla-worker", "beat"}


def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def procfile() -> dict[str, str]:
    lines = (ROOT / "Procfile").read_text().splitlines()
    return dict(line.split(": ", 1) for line in lines if line.strip() and not line.startswith("#"))


def env_example() -> dict[str, str]:
    """The documented settings: `KEY=value  # comment` lines (commented-out ones included)."""
    found = {}
    for line in (ROOT / ".env.example").read_text().splitlines():
        match = re.match(r"^#?\s?([A-Z][A-Z0-9_]*)=(\S*)", line)
        if match:
            found[match[1]] = match[2]
    return found


def app_services() -> dict[str, Any]:
    return {
        name: svc
        for name, svc in compose()["services"].items()
        if svc.get("image") == "helpline:latest"
    }


def test_the_app_services_are_exactly_the_roles():
    assert set(app_services()) == APP_ROLES
    assert set(compose()["services"]) == APP_ROLES | {
        "postgres",
        "redis",
        "proxy",
        "minio",
        "minio-init",
    }


def test_every_role_is_a_procfile_line_or_the_one_shot_migrate():
    roles = {name: svc["command"][0] for name, svc in app_services().items()}
    assert roles == {
        "migrate": "migrate",
        "web": "web",
        "ws": "ws",
        "worker": "worker",
        "sla-worker": "sla",
        "beat": "beat",
    }
    assert set(procfile()) == {"web", "ws", "worker", "sla", "beat"}


@pytest.fixture
def fake_bin(tmp_path: Path) -> Path:
    """Executables named like the real ones that print the argv they were given."""
    for name in ("gunicorn", "uvicorn", "celery", "python"):
        exe = tmp_path / name
        exe.write_text('#!/bin/sh\nprintf "%s" "$(basename "$0")"; printf " %s" "$@"; echo\n')
        exe.chmod(exe.stat().st_mode | stat.S_IEXEC)
    return tmp_path


@pytest.mark.parametrize("role", ["web", "ws", "worker", "sla", "beat"])
def test_the_entrypoint_runs_the_procfile_line_of_its_role(fake_bin: Path, role: str):
    env = {"PATH": f"{fake_bin}:/usr/bin:/bin", "HOST": "0.0.0.0", "WORKER_QUEUES": "helpline"}
    ran = subprocess.run(
        ["sh", str(ROOT / "docker" / "entrypoint.sh"), role],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    # The Procfile line as the shell expands it (honcho runs it through sh too).
    expanded = subprocess.run(
        ["sh", "-c", f"set -- {procfile()[role]}; printf '%s' \"$*\""],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert ran == expanded


def test_migrate_is_one_shot_and_every_other_role_waits_for_it(fake_bin: Path):
    services = app_services()
    migrate = services.pop("migrate")
    assert migrate["restart"] == "no"
    assert "healthcheck" not in migrate
    assert "migrate" not in migrate["depends_on"]
    for name, svc in services.items():
        assert svc["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}, name
    ran = subprocess.run(
        ["sh", str(ROOT / "docker" / "entrypoint.sh"), "migrate"],
        env={"PATH": f"{fake_bin}:/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    assert ran == ["python manage.py migrate --noinput", "python manage.py sync_schedules"]
    # The web role no longer migrates (it raced when web was scaled).
    assert "migrate" not in procfile()["web"]


def test_every_long_running_role_has_a_healthcheck_that_passes_with_the_documented_hosts():
    allowed = env_example()["ALLOWED_HOSTS"].split(",")
    assert allowed == ["desk.example.com", "localhost"]
    services = compose()["services"]
    checks = {name: services[name]["healthcheck"]["test"] for name in APP_ROLES - {"migrate"}}
    http = {name: test for name, test in checks.items() if test[1] == "curl"}
    assert set(http) == {"web", "ws"}
    for name, test in http.items():
        url = urlsplit(test[-1])
        assert validate_host(url.hostname or "", allowed), (name, url.hostname)
        assert str(url.port) in services[name]["expose"]
        assert resolve(url.path).url_name in {"healthz", "readyz"}
    # The positive control: the old check's host is refused by the documented ALLOWED_HOSTS.
    assert not validate_host("127.0.0.1", allowed)
    assert {name: test[1:] for name, test in checks.items() if name not in http} == {
        "worker": ["/app/docker/entrypoint.sh", "healthcheck", "worker"],
        "sla-worker": ["/app/docker/entrypoint.sh", "healthcheck", "sla"],
        "beat": ["/app/docker/entrypoint.sh", "healthcheck", "beat"],
    }


def test_each_worker_consumes_its_own_queues_and_the_default_queue_stays_the_shared_one():
    from django.conf import settings

    from config.celery import app

    services = app_services()
    consumed = {}
    for name in ("worker", "sla-worker"):
        env = {k: str(v) for k, v in services[name]["environment"].items()}
        assert "CELERY_QUEUE" not in env  # the default queue is never a worker's own
        line = procfile()[services[name]["command"][0]]
        words = subprocess.run(
            ["sh", "-c", f"set -- {line}; printf '%s\\n' \"$@\""],
            env={"PATH": "/usr/bin:/bin", **env},
            capture_output=True,
            text=True,
            check=True,
        ).stdout.splitlines()
        consumed[name] = words[words.index("--queues") + 1]
    assert consumed == {"worker": "helpline", "sla-worker": "sla"}
    assert settings.CELERY_TASK_DEFAULT_QUEUE == "helpline"
    assert app.conf.task_routes == {"sla.tasks.scan_sla_task": {"queue": "sla"}}
    # A task the SLA worker enqueues (an escalation e-mail) is routed to the default queue.
    assert app.amqp.router.route({}, "notifications.tasks.send_email_task")["queue"].name == (
        "helpline"
    )
    assert app.amqp.router.route({}, "sla.tasks.scan_sla_task")["queue"].name == "sla"
    assert services["worker"]["environment"]["REMAP_SIGTERM"] == "SIGQUIT"
    assert services["sla-worker"]["environment"]["REMAP_SIGTERM"] == "SIGQUIT"


def dockerignored(path: str) -> bool:
    """Docker's rule: the last matching pattern wins; a pattern matches a path or its parents."""
    ignored = False
    for raw in (ROOT / ".dockerignore").read_text().splitlines():
        pattern = raw.strip()
        if not pattern or pattern.startswith("#"):
            continue
        negate = pattern.startswith("!")
        pattern = pattern.lstrip("!").rstrip("/")
        parts = path.split("/")
        prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        regex = fnmatch.translate(pattern).replace(".*", "[^/]*").replace("[^/]*[^/]*", ".*")
        if pattern.startswith("**/"):
            regex = "(?:.*/)?" + fnmatch.translate(pattern[3:]).replace(".*", "[^/]*")
        if any(re.fullmatch(regex, prefix) for prefix in prefixes):
            ignored = not negate
    return ignored


def test_dockerignore_keeps_secrets_environments_and_build_output_out_of_the_image():
    for path in (
        ".env",
        ".env.production",
        ".venv/bin/python",
        ".data/services.env",
        ".git/HEAD",
        "frontend/node_modules/react/index.js",
        "frontend/dist/index.html",
        "tickets/__pycache__/models.cpython-311.pyc",
        "staticfiles/admin/css/base.css",
    ):
        assert dockerignored(path), path
    for path in (
        ".env.example",
        "Procfile",
        "gunicorn.conf.py",
        "manage.py",
        "requirements/runtime.txt",
        "frontend/package.json",
        "frontend/package-lock.json",
        "frontend/src/main.tsx",
        "docker/entrypoint.sh",
        "config/settings.py",
    ):
        assert not dockerignored(path), path


def dockerfile_stages() -> dict[str, list[str]]:
    stages: dict[str, list[str]] = {}
    current = ""
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        match = re.match(r"FROM (\S+) AS (\S+)", line)
        if match:
            current = match[2]
            stages[current] = [f"BASE {match[1]}"]
        else:
            stages[current].append(line)
    return stages


def test_the_image_builds_the_ui_with_node_and_installs_only_the_locked_runtime_dependencies():
    stages = dockerfile_stages()
    assert list(stages) == ["ui", "build", "runtime"]  # the last stage is what `build .` gives
    ui = stages["ui"]
    assert ui[0].startswith("BASE node:20")
    assert "COPY frontend/package.json frontend/package-lock.json ./" in ui
    assert ui.index("RUN npm ci --no-audit --no-fund") < ui.index("RUN npm run build")
    build = stages["build"]
    assert "COPY requirements/runtime.txt /tmp/runtime.txt" in build
    assert "RUN /opt/venv/bin/pip install --require-hashes --no-deps -r /tmp/runtime.txt" in build
    assert (ROOT / "requirements" / "runtime.txt").is_file()
    runtime = stages["runtime"]
    assert "COPY --from=build /opt/venv /opt/venv" in runtime
    assert "COPY --from=ui /src/frontend/dist /app/frontend/dist" in runtime
    assert not [line for line in runtime if "pip install" in line]
    assert 'ENTRYPOINT ["/app/docker/entrypoint.sh"]' in runtime
    assert "dev" not in (ROOT / "Dockerfile").read_text().split("requirements/")[1][:10]
    assert os.access(ROOT / "docker" / "entrypoint.sh", os.X_OK)
    assert compose()["x-app"]["build"] == {"context": ".", "target": "runtime"}


def test_the_proxy_puts_the_ui_the_api_and_the_websockets_on_one_origin():
    caddy = (ROOT / "docker" / "Caddyfile").read_text()
    routes = re.findall(r"handle( /\S+)? \{\s*reverse_proxy (\S+)", caddy)
    assert routes == [(" /ws/*", "ws:8001"), ("", "web:8000")]
    services = compose()["services"]
    assert services["ws"]["expose"] == ["8001"] and services["web"]["expose"] == ["8000"]
    assert services["proxy"]["ports"] == ["80:80", "443:443"]
    assert "ports" not in services["web"] and "ports" not in services["ws"]


def test_minio_is_an_optional_profile():
    services = compose()["services"]
    assert services["minio"]["profiles"] == ["s3"]
    assert services["minio-init"]["profiles"] == ["s3"]
    assert not [name for name in APP_ROLES if "minio" in services[name].get("depends_on", {})]
    assert {"S3_BUCKET", "S3_ENDPOINT_URL", "S3_ACCESS_KEY_ID"} <= set(env_example())


def locked(name: str) -> dict[str, str]:
    """package -> version of a pip-compile output, checking every pin carries a hash."""
    text = (ROOT / "requirements" / name).read_text()
    pins = re.findall(
        r"^([a-z0-9][a-z0-9._-]*)==(\S+) \\\n\s+--hash=sha256:[0-9a-f]{64}", text, re.M
    )
    assert len(pins) == len(re.findall(r"^\S+==", text, re.M))  # none without a hash
    return dict(pins)


def test_the_runtime_lock_holds_no_development_tool_and_dev_pins_the_same_versions():
    runtime, dev = locked("runtime.txt"), locked("dev.txt")
    tools = {"pytest", "pytest-django", "moto", "mypy", "ruff", "honcho", "hypothesis", "pip-tools"}
    assert not tools & set(runtime)
    assert tools <= set(dev)
    assert {name: dev[name] for name in runtime} == runtime
    needed = {"django", "gunicorn", "uvicorn", "celery", "whitenoise", "prometheus-client"}
    assert needed | {"sentry-sdk", "drf-spectacular-sidecar", "psycopg", "channels-redis"} <= set(
        runtime
    )
