"""Scale-out knobs: database aliases, Redis roles, a sharded channel layer, RabbitMQ as broker."""

from __future__ import annotations

import asyncio
import json
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import redis
from channels.layers import get_channel_layer
from django.db import connections
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from config.tests.test_task_context import CELERY_PRINTS
from tests_support.factories import make_ticket
from tests_support.live import ROOT, VENV_BIN, free_port, process_env

RABBITMQ = "amqp://guest:guest@127.0.0.1:5672//"


def production_settings(**env: str) -> dict[str, object]:
    """Selected values of config.settings (not the test settings) under `env`."""
    script = (
        "import json; from config import settings as s; print(json.dumps({"
        "'replica': s.DATABASES['replica']['NAME'], 'replica_host': s.DATABASES['replica']['HOST'],"
        "'replica_engine': s.DATABASES['replica']['ENGINE'], 'read': s.READ_REPLICA,"
        "'export': s.DATABASES['export']['NAME'], 'export_alias': s.EXPORT_DATABASE,"
        "'cache': s.CACHES['default']['LOCATION'], 'lock': s.LOCK_REDIS_URL,"
        "'channels': s.CHANNEL_LAYERS['default']['CONFIG']['hosts'], 'broker': s.CELERY_BROKER_URL}))"
    )
    base = {"PATH": "/usr/bin:/bin", "DEBUG": "1", "REDIS_URL": "redis://r:6379/0"}
    out = subprocess.run(
        [str(VENV_BIN / "python"), "-c", script],
        cwd=ROOT,
        env={**base, "DATABASE_URL": "postgres://u@primary:5432/desk", **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_every_role_defaults_to_the_one_database_and_the_one_redis():
    assert production_settings() == {
        "replica": "desk",
        "replica_host": "primary",
        "replica_engine": "django.db.backends.postgresql",
        "read": "default",
        "export": "desk",
        "export_alias": "default",
        "cache": "redis://r:6379/0",
        "lock": "redis://r:6379/0",
        "channels": ["redis://r:6379/0"],
        "broker": "redis://r:6379/0",
    }


def test_each_role_takes_its_own_address_by_configuration_alone():
    assert production_settings(
        DATABASE_REPLICA_URL="postgres://u@replica:5432/desk",
        EXPORT_DATABASE_URL="postgres://u@direct:5432/desk_direct",
        CACHE_URL="redis://cache:6379/1",
        LOCK_REDIS_URL="redis://locks:6379/2",
        CHANNEL_REDIS_HOSTS="redis://ws1:6379/0,redis://ws2:6379/0",
        CELERY_BROKER_URL=RABBITMQ,
    ) == {
        "replica": "desk",
        "replica_host": "replica",
        "replica_engine": "django.db.backends.postgresql",
        "read": "replica",
        "export": "desk_direct",
        "export_alias": "export",
        "cache": "redis://cache:6379/1",
        "lock": "redis://locks:6379/2",
        "channels": ["redis://ws1:6379/0", "redis://ws2:6379/0"],
        "broker": RABBITMQ,
    }


@pytest.mark.django_db(transaction=True, databases=["default", "replica"])
def test_stats_search_and_training_read_on_the_replica_alias_and_nothing_else_does(desk):
    from tickets.api.tickets import ticket_stats
    from tickets.classification.training import labelled_tickets
    from tickets.filters import apply_ticket_filters, parse_ticket_filters
    from tickets.models import Ticket

    for n in range(2):
        make_ticket(desk["project"], desk["agent"], title=f"printer {n}")
    tickets = Ticket.objects.filter(project=desk["project"])

    def reads(alias: str) -> tuple[int, int, int, str]:
        with (
            override_settings(READ_REPLICA=alias),
            CaptureQueriesContext(connections["default"]) as primary,
            CaptureQueriesContext(connections["replica"]) as replica,
        ):
            stats = ticket_stats(tickets)
            labelled_tickets(desk["project"], "priority")
            searched = apply_ticket_filters(
                tickets, parse_ticket_filters({"q": "printer"}), user=desk["agent"]
            )
            assert stats["total_tickets"] == 2 and searched.count() == 2
        return len(primary), len(replica), stats["total_tickets"], searched.db

    # Six stats aggregates, one training read, the search's narrowing (how many match) and count.
    assert reads("replica") == (0, 9, 2, "replica")
    assert reads("default") == (9, 0, 2, "default")  # the positive control


@pytest.mark.django_db(transaction=True)
def test_the_export_session_opens_on_the_export_alias():
    from exports.streaming import open_export_connection

    with override_settings(EXPORT_DATABASE="export"):
        conn = open_export_connection()
    try:
        row = conn.execute("SELECT current_database(), current_setting('application_name')")
        assert row.fetchone() == (connections["export"].settings_dict["NAME"], "helpline-export")
    finally:
        conn.close()


@contextmanager
def private_redis() -> Iterator[str]:
    port = free_port()
    workdir = tempfile.mkdtemp(prefix="redis-shard-")
    proc = subprocess.Popen(
        ["redis-server", "--port", str(port), "--save", "", "--appendonly", "no", "--dir", workdir],
        stdout=subprocess.DEVNULL,
    )
    try:
        client = redis.Redis(port=port)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                assert time.monotonic() < deadline
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(10)


def test_the_channel_layer_shards_groups_over_several_redis_servers():
    with private_redis() as first, private_redis() as second:
        layers = {
            "default": {
                "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
                "CONFIG": {"hosts": [first, second], "prefix": "shard-test"},
            }
        }
        groups = [f"board.{n}" for n in range(12)]

        async def scenario() -> tuple[list[str], dict[str, int]]:
            layer = get_channel_layer()
            assert layer is not None
            channel = await layer.new_channel()
            for group in groups:
                await layer.group_add(group, channel)
            subscribed = {}
            for url in (first, second):
                client = redis.asyncio.Redis.from_url(url)
                subscribed[url] = len(await client.pubsub_channels("shard-test*"))
                await client.aclose()
            for group in groups:
                await layer.group_send(group, {"type": "board.event", "group": group})
            heard = [(await asyncio.wait_for(layer.receive(channel), 5))["group"] for _ in groups]
            await layer.flush()
            return heard, subscribed

        with override_settings(CHANNEL_LAYERS=layers):
            heard, subscribed = asyncio.run(scenario())
    assert sorted(heard) == sorted(groups)
    assert all(count > 0 for count in subscribed.values()), subscribed  # both shards carry groups


@pytest.mark.live
@pytest.mark.django_db(transaction=True)
def test_rabbitmq_is_the_broker_by_configuration_alone(tmp_path: Path):
    """A real worker consumes a real task through the RabbitMQ running here."""
    from django.conf import settings

    queue = f"rabbit-test-{time.monotonic_ns()}"
    env = process_env(
        DJANGO_SETTINGS_MODULE="config.settings",
        HELPLINE_TESTING="0",
        DEBUG="1",
        REDIS_URL=settings.REDIS_URL,
        CELERY_BROKER_URL=RABBITMQ,
        CELERY_RESULT_BACKEND=settings.REDIS_URL,
        CELERY_QUEUE=queue,
    )
    log_path = tmp_path / "worker.log"
    with log_path.open("wb") as log:
        worker = subprocess.Popen(
            [
                *(str(VENV_BIN / "celery"), "-A", "config", "--quiet", "worker", "--pool", "solo"),
                *("--queues", queue, "--hostname", f"{queue}@%h", "--without-mingle"),
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while b"ready." not in log_path.read_bytes():
            assert worker.poll() is None and time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.1)
        published = subprocess.run(
            [str(VENV_BIN / "python"), "-c", PUBLISH],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=90,
        )
        assert published.stdout.strip().splitlines()[-1] == "pong:through-rabbitmq"
    finally:
        worker.terminate()
        worker.wait(30)
    text = log_path.read_text().splitlines()
    lines = [json.loads(line) for line in text if line.strip() and line not in CELERY_PRINTS]
    connected = [r["event"] for r in lines if str(r["event"]).startswith("Connected to ")]
    assert connected == ["Connected to amqp://guest:**@127.0.0.1:5672//"]
    succeeded = [r for r in lines if "succeeded" in str(r["event"])]
    assert len(succeeded) == 1 and "pong:through-rabbitmq" in str(succeeded[0]["event"])


PUBLISH = """
import django
django.setup()
from tickets.tasks import ping_task
print(ping_task.delay("through-rabbitmq").get(timeout=60))
"""
