"""Hostile input from outside, against a real gunicorn: each is a 4xx in the envelope with the
headers every other response carries, and the same worker process answers the next request."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from django.test import Client, override_settings
from rest_framework.authtoken.models import Token

from tests_support.factories import make_ticket
from tests_support.live import gunicorn_process

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]

BIG = 2**63  # one past PostgreSQL's bigint
DEEP = 10_000
SECURITY_HEADERS = (
    "X-Content-Type-Options",
    "X-Frame-Options",
    "Referrer-Policy",
    "Cross-Origin-Opener-Policy",
)
# gunicorn.conf.py lifts gunicorn's own request-line cap so the desk answers an oversized query
# string itself (in the envelope); passed here too while that file may not exist.
GUNICORN_ARGS = ("--limit-request-line", "0", "--no-control-socket")


@dataclass
class Server:
    base: str
    master: int

    def workers(self) -> list[int]:
        path = Path(f"/proc/{self.master}/task/{self.master}/children")
        return sorted(int(p) for p in path.read_text().split())


@pytest.fixture(scope="module")
def server(django_db_setup: None) -> Iterator[Server]:
    with gunicorn_process(1, args=GUNICORN_ARGS) as (base, proc):
        yield Server(base=base, master=proc.pid)


@pytest.fixture
def agent_client(server: Server, desk: dict[str, Any]) -> Iterator[httpx.Client]:
    token = Token.objects.create(user=desk["admin"]).key
    with httpx.Client(
        base_url=f"{server.base}/api/v1", headers={"Authorization": f"Token {token}"}, timeout=60
    ) as client:
        yield client


def deep(n: int) -> str:
    return "[" * n + "]" * n


def cursor(raw: str) -> str:
    return base64.b64encode(raw.encode()).decode()


@dataclass
class Case:
    method: str
    path: str
    json: Any = None
    content: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)


def body(text: str) -> bytes:
    return text.encode()


ticket_body = '{{"project": "DESK", "title": "t", "description": "d", {extra}}}'

CASES: dict[str, tuple[Case, int]] = {
    "nested 10k deep": (Case("POST", "/tickets/", content=body(deep(DEEP))), 400),
    "nested 10k deep in metadata": (
        Case(
            "POST",
            "/tickets/",
            content=body(ticket_body.format(extra=f'"metadata": {{"a": {deep(DEEP)}}}')),
        ),
        400,
    ),
    "nested 100 deep in metadata": (
        Case(
            "POST",
            "/tickets/",
            content=body(ticket_body.format(extra=f'"metadata": {{"a": {deep(100)}}}')),
        ),
        400,
    ),
    "NUL in metadata value": (
        Case(
            "POST", "/tickets/", json={"project": "DESK", "title": "t", "metadata": {"k": "a\x00b"}}
        ),
        400,
    ),
    "NUL in metadata key": (
        Case("POST", "/tickets/", json={"project": "DESK", "title": "t", "metadata": {"a\x00": 1}}),
        400,
    ),
    "NUL in title": (Case("POST", "/tickets/", json={"project": "DESK", "title": "a\x00b"}), 400),
    "NUL in q": (Case("GET", "/tickets/?q=a%00b"), 400),
    "NUL in a filter": (Case("GET", "/tickets/?assignee=a%00b"), 400),
    "NUL in a list filter": (Case("GET", "/tickets/?tag=a%00b"), 400),
    "NUL in a path segment": (Case("GET", "/users/a%00b/"), 400),
    "NUL in the assignee": (
        Case("POST", "/tickets/{ticket}/assign/", json={"assignee": "a\x00b"}),
        400,
    ),
    "lone surrogate": (
        Case("POST", "/tickets/", content=b'{"project": "DESK", "title": "\\ud800"}'),
        400,
    ),
    "invalid UTF-8 body": (
        Case("POST", "/tickets/", content=b'{"project": "DESK", "title": "\xff\xfe"}'),
        400,
    ),
    "invalid UTF-8 path": (Case("GET", "/projects/%ff%fe/"), 404),
    "bulk ids beyond int64": (
        Case("POST", "/tickets/bulk/", json={"ids": [BIG], "action": "assign", "value": "agent"}),
        400,
    ),
    "bulk ids holding an object": (
        Case("POST", "/tickets/bulk/", json={"ids": [{"a": 1}], "action": "archive"}),
        400,
    ),
    "body id beyond int64": (
        Case(
            "POST",
            "/tickets/",
            json={"project": "DESK", "title": "t", "linked_type": "order", "linked_id": BIG},
        ),
        400,
    ),
    "huge number in metadata": (
        Case(
            "POST", "/tickets/", json={"project": "DESK", "title": "t", "metadata": {"n": 10**30}}
        ),
        400,
    ),
    "events after beyond int64": (Case("GET", f"/projects/DESK/events/?after={BIG}"), 400),
    "ticket path id beyond int64": (Case("GET", f"/tickets/{BIG}/"), 404),
    "calendar path id beyond int64": (Case("GET", f"/calendars/{BIG}/"), 404),
    "export path id beyond int64": (Case("GET", f"/exports/{BIG}/"), 404),
    "calendar without timezone": (
        Case(
            "POST",
            "/calendars/",
            json={"name": "c", "windows": [{"weekday": 0, "start": "09:00", "end": "17:00"}]},
        ),
        400,
    ),
    "cursor garbage": (Case("GET", "/tickets/?cursor=%%%garbage"), 404),
    "cursor of a huge position": (Case("GET", f"/tickets/?cursor={cursor('p=' + '9' * 30)}"), 404),
    "cursor with NUL": (Case("GET", f"/tickets/?cursor={cursor('p=a%00b')}"), 404),
    "cursor with NUL on a text ordering": (
        Case("GET", f"/projects/DESK/columns/{{column}}/tickets/?cursor={cursor('p=a%00b')}"),
        404,
    ),
    "20 MB JSON": (
        Case(
            "POST",
            "/tickets/",
            content=body(
                json.dumps({"project": "DESK", "title": "t", "description": "x" * 20_000_000})
            ),
        ),
        413,
    ),
    "100k-character title": (
        Case("POST", "/tickets/", json={"project": "DESK", "title": "x" * 100_000}),
        400,
    ),
    "oversized query string": (Case("GET", "/tickets/?q=" + "a" * 20_000), 414),
    "unknown route": (Case("GET", "/nothing-here/"), 404),
}


def test_hostile_input_is_a_4xx_in_the_envelope_and_the_worker_lives_on(
    server: Server, agent_client: httpx.Client, desk: dict[str, Any]
) -> None:
    """One server, every case in turn (a test each would spend its time truncating tables)."""
    ticket = make_ticket(desk["project"], desk["agent"], title="target")
    ids = {"ticket": ticket.pk, "column": desk["project"].columns.first().pk}
    workers = server.workers()
    healthy = agent_client.get("/me/")
    assert healthy.status_code == 200
    usual = {h: healthy.headers.get(h) for h in SECURITY_HEADERS}
    assert all(usual.values()), usual  # the positive control: a normal answer carries them all
    wrong: dict[str, str] = {}
    for name, (case, expected) in CASES.items():
        problem = refusal_problem(agent_client, case, expected, usual, ids)
        if problem:
            wrong[name] = problem
        if agent_client.get("/me/").status_code != 200:
            wrong[name] = f"{wrong.get(name, '')}; the next request failed"
    assert not wrong, "\n".join(f"{name}: {problem}" for name, problem in wrong.items())
    assert server.workers() == workers  # the same worker: nothing crashed and was replaced


def refusal_problem(
    client: httpx.Client,
    case: Case,
    expected: int,
    usual: dict[str, str | None],
    ids: dict[str, int],
) -> str:
    """What is wrong with the answer to `case` ("" when it is the expected refusal)."""
    headers = {**case.headers}
    if case.content is not None:
        headers.setdefault("Content-Type", "application/json")
    response = client.request(
        case.method, case.path.format(**ids), json=case.json, content=case.content, headers=headers
    )
    if response.status_code != expected:
        return f"{response.status_code} instead of {expected}: {response.text[:300]}"
    if not response.headers["Content-Type"].startswith("application/json"):
        return f"not JSON: {response.headers['Content-Type']}"
    error = response.json().get("error", {})
    if set(error) != {"code", "message", "details", "request_id"}:
        return f"not the envelope: {response.text[:300]}"
    if error["request_id"] != response.headers["X-Request-ID"]:
        return "the request id differs from the header"
    headers_seen = {h: response.headers.get(h) for h in SECURITY_HEADERS}
    if headers_seen != usual:
        return f"security headers {headers_seen} instead of {usual}"
    return ""


def test_the_desks_404_under_debug_carries_the_security_headers(client: Client) -> None:
    """`make run` runs with DEBUG on, where Django's 404 page is HTML until the envelope replaces
    it: the replacement keeps the headers (in process: a second gunicorn would cost ~10 s)."""
    with override_settings(DEBUG=True):
        ok = client.get("/healthz")
        missing = client.get("/api/v1/nothing-here/")
    assert ok.status_code == 200
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"
    for header in SECURITY_HEADERS:
        assert missing.headers.get(header) == ok.headers.get(header), header
        assert ok.headers.get(header), header
