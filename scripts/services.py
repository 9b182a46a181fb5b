#!/usr/bin/env python3
"""Make sure PostgreSQL and Redis are reachable, and print the environment that points at them.

Order of preference, for each service:
1. the URL already in the environment (DATABASE_URL / REDIS_URL), checked;
2. the local server on its default port (127.0.0.1:5432 / 127.0.0.1:6379) when it answers;
3. a private server under .data/, started from the system's binaries (installed with apt-get
   when missing and we are root).
Prints `KEY=value` lines for `set -a; . .data/services.env`. Standard library only.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / ".data"
PRIVATE_PG_PORT = 54329
PRIVATE_REDIS_PORT = 63790
DB_NAME = os.environ.get("HELPLINE_DB_NAME", "helpline")


def log(message: str) -> None:
    print(f"[services] {message}", file=sys.stderr)


def port_open(host: str, port: int, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def redis_answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1.0) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def apt_install(*packages: str) -> None:
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise SystemExit(
            f"Need {' '.join(packages)}; install them (apt-get install {' '.join(packages)})."
        )
    log(f"installing {' '.join(packages)} with apt-get")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(["apt-get", "install", "-y", "-qq", *packages], check=True, env=env)


def pg_bin(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    for candidate in sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), reverse=True):
        return str(candidate)
    apt_install("postgresql")
    return pg_bin(name)


def run_as_postgres(cmd: list[str]) -> None:
    # initdb and postgres refuse to run as root; use the system's postgres user then.
    if os.geteuid() == 0:
        cmd = ["runuser", "-u", "postgres", "--", *cmd]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)


def ensure_database(url: str) -> None:
    """Create the database named in the URL when the server has no such database yet."""
    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    psql = pg_bin("psql")
    base = [
        psql,
        "-h",
        parsed.hostname or "127.0.0.1",
        "-p",
        str(parsed.port or 5432),
        "-U",
        parsed.username or "postgres",
        "-d",
        "postgres",
        "-tAc",
    ]
    env = {**os.environ}
    if parsed.password:
        env["PGPASSWORD"] = parsed.password
    exists = subprocess.run(
        [*base, f"SELECT 1 FROM pg_database WHERE datname = '{name}'"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if exists.returncode != 0:
        raise SystemExit(
            f"PostgreSQL at {parsed.hostname}:{parsed.port} refused us: {exists.stderr.strip()}"
        )
    if exists.stdout.strip() != "1":
        log(f"creating database {name}")
        subprocess.run(
            [*base, f'CREATE DATABASE "{name}"'], check=True, env=env, capture_output=True
        )


def postgres_url() -> str:
    if os.environ.get("DATABASE_URL"):
        url = os.environ["DATABASE_URL"]
        parsed = urlparse(url)
        if not port_open(parsed.hostname or "127.0.0.1", parsed.port or 5432):
            raise SystemExit(
                f"DATABASE_URL is set but {parsed.hostname}:{parsed.port or 5432} does not answer."
            )
        ensure_database(url)
        return url
    if port_open("127.0.0.1", 5432):
        url = f"postgres://postgres@127.0.0.1:5432/{DB_NAME}"
        ensure_database(url)
        return url
    pgdata = DATA / "pg"
    url = f"postgres://postgres@127.0.0.1:{PRIVATE_PG_PORT}/{DB_NAME}"
    if not port_open("127.0.0.1", PRIVATE_PG_PORT):
        log(f"no PostgreSQL on 127.0.0.1:5432: starting a private one in {pgdata}")
        DATA.mkdir(exist_ok=True)
        if not (pgdata / "PG_VERSION").exists():
            pgdata.mkdir(parents=True, exist_ok=True)
            if os.geteuid() == 0:
                shutil.chown(pgdata, "postgres", "postgres")
            run_as_postgres(
                [
                    pg_bin("initdb"),
                    "-D",
                    str(pgdata),
                    "-U",
                    "postgres",
                    "--auth=trust",
                    "-E",
                    "UTF8",
                ]
            )
        run_as_postgres(
            [
                pg_bin("pg_ctl"),
                "-D",
                str(pgdata),
                "-l",
                str(pgdata / "server.log"),
                "-w",
                "start",
                "-o",
                f"-p {PRIVATE_PG_PORT} -c listen_addresses=127.0.0.1 -k {pgdata}",
            ]
        )
    ensure_database(url)
    return url


def redis_url() -> str:
    if os.environ.get("REDIS_URL"):
        url = os.environ["REDIS_URL"]
        parsed = urlparse(url)
        if not redis_answers(parsed.hostname or "127.0.0.1", parsed.port or 6379):
            raise SystemExit(
                f"REDIS_URL is set but {parsed.hostname}:{parsed.port or 6379} does not answer PING."
            )
        return url
    if redis_answers("127.0.0.1", 6379):
        return "redis://127.0.0.1:6379/0"
    if not redis_answers("127.0.0.1", PRIVATE_REDIS_PORT):
        server = shutil.which("redis-server")
        if server is None:
            apt_install("redis-server")
            server = shutil.which("redis-server") or "/usr/bin/redis-server"
        rdir = DATA / "redis"
        rdir.mkdir(parents=True, exist_ok=True)
        log(f"no Redis on 127.0.0.1:6379: starting a private one on port {PRIVATE_REDIS_PORT}")
        subprocess.run(
            [
                server,
                "--port",
                str(PRIVATE_REDIS_PORT),
                "--bind",
                "127.0.0.1",
                "--daemonize",
                "yes",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(rdir),
                "--logfile",
                str(rdir / "redis.log"),
            ],
            check=True,
        )
        for _ in range(50):
            if redis_answers("127.0.0.1", PRIVATE_REDIS_PORT):
                break
            time.sleep(0.1)
    return f"redis://127.0.0.1:{PRIVATE_REDIS_PORT}/0"


def main() -> None:
    values = {"DATABASE_URL": postgres_url(), "REDIS_URL": redis_url()}
    for key, value in values.items():
        print(f"{key}={value}")
    log("PostgreSQL: " + values["DATABASE_URL"] + "  Redis: " + values["REDIS_URL"])


if __name__ == "__main__":
    main()
