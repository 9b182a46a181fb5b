"""`HELPLINE_PREPARE=0` (documented for PgBouncer in transaction mode) runs in the suite.

The hot reads of `config/rawsql.py` take another road when it is off: Django's own cursor with
client-side binding and text results, instead of the preparing psycopg cursor with server-side
binding and binary results. Two real gunicorns on the same test database, one with prepare on and
one with it off: the hot paths (create, move, board, detail, list with search) driven over HTTP
on the prepare-off server answer exactly what they should, the same reads answer the same JSON
from both servers (a decoding that only works for binary rows, or a statement that needs a
server-side parameter, shows up as a difference or an error), and PostgreSQL itself shows which
server binds server-side: each server's session last ran the token read, with `$1` for the
prepared one and the key spelled out for the other.
"""

from __future__ import annotations

import secrets
from contextlib import ExitStack
from typing import Any

import httpx
import pytest
from django.db import connection
from rest_framework.authtoken.models import Token

from tests_support.live import gunicorn_process

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]


def _normalised(body: Any, base: str) -> Any:
    """The JSON with the server's own address (in next-page links) taken out."""
    if isinstance(body, dict):
        return {k: _normalised(v, base) for k, v in body.items()}
    if isinstance(body, list):
        return [_normalised(v, base) for v in body]
    if isinstance(body, str):
        return body.replace(base, "BASE")
    return body


def _last_token_reads(*, excluding: str) -> list[str]:
    """The last statement of every other session on this database that read a token."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT query FROM pg_stat_activity WHERE datname = current_database()"
            " AND pid <> pg_backend_pid() AND query LIKE %s AND query NOT LIKE %s",
            ["%authtoken_token%", f"%{excluding}%pg_stat_activity%"],
        )
        return [row[0] for row in cursor.fetchall()]


def test_prepare_off_serves_the_hot_paths_as_prepare_on_does(desk: dict[str, Any]) -> None:
    token = Token.objects.create(user=desk["agent"]).key
    auth = {"Authorization": f"Token {token}"}
    with ExitStack() as stack:
        off, _ = stack.enter_context(gunicorn_process(HELPLINE_PREPARE="0"))
        on, _ = stack.enter_context(gunicorn_process(HELPLINE_PREPARE="1"))
        client = stack.enter_context(httpx.Client(headers=auth, timeout=60))

        def ok(response: httpx.Response, status: int = 200) -> Any:
            assert response.status_code == status, (response.request.url, response.text)
            return response.json()

        # Writes on the prepare-off server.
        created = [
            ok(
                client.post(
                    f"{off}/api/v1/tickets/",
                    json={"project": "DESK", "title": title, "description": text},
                ),
                201,
            )
            for title, text in (
                ("Printer on fire", "smoke from the tray"),
                ("Scanner jammed", "paper stuck"),
                ("VPN drops", "every hour"),
            )
        ]
        printer, scanner, vpn = (t["id"] for t in created)
        assert [t["key"] for t in created] == ["DESK-1", "DESK-2", "DESK-3"]
        # The VPN ticket to the top of its column, then the printer into another column.
        ok(client.patch(f"{off}/api/v1/tickets/{vpn}/move/", json={"after_id": printer}))
        moved = ok(
            client.patch(f"{off}/api/v1/tickets/{printer}/move/", json={"status": "in_progress"})
        )
        assert moved["status"] == "in_progress"

        reads = [
            "/api/v1/projects/DESK/board/",
            f"/api/v1/tickets/{printer}/",
            f"/api/v1/tickets/{scanner}/",
            "/api/v1/tickets/?project=DESK&q=printer",
            "/api/v1/tickets/?project=DESK&status=new",
            "/api/v1/tickets/?project=DESK",
        ]
        answers = {base: [ok(client.get(base + path)) for path in reads] for base in (off, on)}

        board, detail, _, search, new, listed = answers[off]
        columns = {c["name"]: [t["id"] for t in c["tickets"]] for c in board["columns"]}
        assert columns["To Do"] == [vpn, scanner]
        assert columns["In Progress"] == [printer]
        assert (detail["key"], detail["status"]) == ("DESK-1", "in_progress")
        assert [t["id"] for t in search["results"]] == [printer]
        assert {t["id"] for t in new["results"]} == {vpn, scanner}
        assert {t["id"] for t in listed["results"]} == {printer, scanner, vpn}
        assert _normalised(answers[off], off) == _normalised(answers[on], on)

        # Which session bound server-side: each server's last statement is the token read of a
        # refused key (401, nothing after it).
        marker = secrets.token_hex(20)
        for base in (off, on):
            refused = client.get(f"{base}/api/v1/me/", headers={"Authorization": f"Token {marker}"})
            assert refused.status_code == 401, refused.text
        last = _last_token_reads(excluding=marker)
    assert len(last) == 2, last
    assert sum(marker in query for query in last) == 1, last  # prepare off: the key in the text
    assert sum("$1" in query and marker not in query for query in last) == 1, last  # prepared
