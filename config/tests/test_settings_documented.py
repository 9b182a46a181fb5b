"""Settings are read in one place (config/settings.py) and .env.example lists every one."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Read by compose, Caddy, the Procfile's shell or Celery itself; documented in .env.example's last
# section and never read by the settings.
OUTSIDE_SETTINGS = {
    "SITE_ADDRESS",
    "WORKER_QUEUES",
    "WORKER_CONCURRENCY",
    "REMAP_SIGTERM",
    "MINIO_ROOT_USER",
    "MINIO_ROOT_PASSWORD",
}
# Bootstraps that run before the settings (or start other processes) may touch the environment.
BOOTSTRAPS = {
    "manage.py",
    "gunicorn.conf.py",
    "config/wsgi.py",
    "config/asgi.py",
    "config/celery.py",
    "config/settings_test.py",
    "tests_support/live.py",
}


def settings_env_reads() -> list[str]:
    """Every name config/settings.py reads with `env(...)`, `env.<cast>(...)`."""
    tree = ast.parse((ROOT / "config" / "settings.py").read_text())
    names = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and node.args):
            continue
        first, func = node.args[0], node.func
        is_env = (isinstance(func, ast.Name) and func.id == "env") or (
            isinstance(func, ast.Attribute)
            and isinstance(func.value, ast.Name)
            and func.value.id == "env"
            and func.attr != "db_url_config"
        )
        if is_env and isinstance(first, ast.Constant) and isinstance(first.value, str):
            names.append(first.value)
    return names


def documented() -> tuple[list[str], list[str]]:
    """The keys of .env.example before and after its `read by compose...` section."""
    before: list[str] = []
    after: list[str] = []
    target = before
    for line in (ROOT / ".env.example").read_text().splitlines():
        if line.startswith("# --- read by compose"):
            target = after
        match = re.match(r"^#? ?([A-Z][A-Z0-9_]*)=", line)
        if match:
            target.append(match[1])
    return before, after


def test_env_example_lists_exactly_the_settings_read_and_each_once():
    read = settings_env_reads()
    before, after = documented()
    assert len(before) == len(set(before))
    assert sorted(set(read)) == sorted(before)
    assert set(after) == OUTSIDE_SETTINGS
    assert not OUTSIDE_SETTINGS & set(read)
    # The positive control: the reader finds settings of every shape.
    assert {"DEBUG", "DATABASE_URL", "ALLOWED_HOSTS", "METRICS_TOKEN", "EXPORT_PART_SIZE"} <= set(
        read
    )


def test_the_outside_keys_are_really_read_where_documented():
    text = "\n".join(
        (ROOT / name).read_text() for name in ("Procfile", "docker-compose.yml", "docker/Caddyfile")
    )
    for key in OUTSIDE_SETTINGS - {"REMAP_SIGTERM"}:
        assert key in text, key
    assert "REMAP_SIGTERM: SIGQUIT" in (ROOT / "docker-compose.yml").read_text()


def environ_reads(path: Path) -> list[int]:
    """Lines where a module reads os.environ / os.getenv."""
    tree = ast.parse(path.read_text())
    lines = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and node.attr in {"environ", "getenv"}
            and isinstance(node.value, ast.Name)
            and node.value.id == "os"
        ):
            lines.append(node.lineno)
    return lines


def test_nothing_but_the_bootstraps_reads_the_environment():
    skip = {".venv", "bench", "scripts", "node_modules", ".data"}
    offenders = {}
    for path in ROOT.rglob("*.py"):
        relative = path.relative_to(ROOT)
        # Test code (tests/, tests_ui/, tests_support/) may set up its own processes' environment.
        if skip & set(relative.parts) or any(p.startswith("tests") for p in relative.parts):
            continue
        if str(relative) not in BOOTSTRAPS and environ_reads(path):
            offenders[str(relative)] = environ_reads(path)
    assert offenders == {}
    # The positive control: the scan sees the bootstraps' reads.
    assert environ_reads(ROOT / "gunicorn.conf.py") != []
    assert environ_reads(ROOT / "manage.py") != []
