"""The foundation: health, the error envelope everywhere, request ids, auth, Celery and Channels."""

from __future__ import annotations

import asyncio
import json
import logging

import pytest
from django.test import override_settings
from django.urls import path
from rest_framework.test import APIClient

from tests_support.factories import PASSWORD, make_user


def _assert_envelope(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}
    error = body["error"]
    assert set(error) == {"code", "message", "details", "request_id"}
    assert error["code"] == code
    assert error["message"]
    assert error["request_id"] == response["X-Request-ID"]
    return error


def test_healthz_is_ok_without_touching_anything(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_checks_database_redis_and_broker(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert {name: check["ok"] for name, check in body["checks"].items()} == {
        "database": True,
        "redis": True,
        "broker": True,
    }


@pytest.mark.django_db
def test_readyz_is_503_naming_redis_when_redis_is_down_while_healthz_stays_200(client):
    dead = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    with override_settings(REDIS_URL=dead, CELERY_BROKER_URL=dead):
        ready = client.get("/readyz")
        health = client.get("/healthz")
    assert ready.status_code == 503
    checks = ready.json()["checks"]
    assert checks["database"]["ok"] is True
    assert checks["redis"]["ok"] is False
    assert "Connection" in checks["redis"]["error"]
    assert checks["broker"]["ok"] is False
    assert health.status_code == 200


@pytest.mark.django_db
def test_malformed_json_is_a_400_envelope_and_its_request_id_is_logged(caplog):
    caplog.set_level(logging.INFO, logger="helpline.request")
    response = APIClient().generic(
        "POST", "/api/v1/auth/token/", '{"username": "x", ', content_type="application/json"
    )
    error = _assert_envelope(response, 400, "validation_error")
    assert error["message"].startswith("Malformed request body")
    lines = [r.msg for r in caplog.records if r.name == "helpline.request"]  # event dicts
    assert [(line["status"], line["request_id"], line["path"]) for line in lines] == [
        (400, error["request_id"], "/api/v1/auth/token/")
    ]
    assert {"method", "duration_ms", "user"} <= set(lines[0])


@pytest.mark.django_db
def test_wrong_method_is_a_405_envelope():
    _assert_envelope(APIClient().get("/api/v1/auth/token/"), 405, "method_not_allowed")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url", ["/api/v1/nowhere/", "/api/v1/users/nobody/x/", "/static/nowhere.js", "/media/x"]
)
def test_unknown_url_is_a_404_envelope(client, url):
    _assert_envelope(client.get(url), 404, "not_found")


def _boom(request):
    raise RuntimeError("kaboom")


urlpatterns = [path("boom/", _boom)]


@pytest.mark.django_db
@override_settings(ROOT_URLCONF=__name__)
def test_unhandled_exception_is_a_500_envelope_with_logged_request_id(caplog):
    caplog.set_level(logging.INFO)
    client = APIClient(raise_request_exception=False)
    response = client.get("/boom/", HTTP_X_REQUEST_ID="req-abc-123")
    error = _assert_envelope(response, 500, "server_error")
    assert error["request_id"] == "req-abc-123"
    assert "kaboom" not in response.content.decode()  # no internals leak to the client
    logged = [r.msg for r in caplog.records if r.name.startswith("helpline")]
    assert any(
        line.get("event") == "unhandled_exception" and line["request_id"] == "req-abc-123"
        for line in logged
    )
    assert any(line.get("event") == "request" and line["status"] == 500 for line in logged)


def test_a_bad_request_id_header_is_replaced(client, db):
    response = client.get("/healthz", HTTP_X_REQUEST_ID="bad id with spaces\n")
    assert response["X-Request-ID"] != "bad id with spaces\n"
    assert len(response["X-Request-ID"]) == 32


# --- auth ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_token_then_me_with_memberships(desk):
    api = APIClient()
    response = api.post(
        "/api/v1/auth/token/", {"username": "agent", "password": PASSWORD}, format="json"
    )
    assert response.status_code == 200
    token = response.json()["token"]
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    me = api.get("/api/v1/me/").json()
    assert me["username"] == "agent"
    assert me["memberships"] == [
        {"project": "DESK", "project_name": "DESK project", "role": "agent"}
    ]


@pytest.mark.django_db
def test_wrong_password_and_missing_credentials():
    make_user("someone")
    api = APIClient()
    wrong = api.post(
        "/api/v1/auth/token/", {"username": "someone", "password": "nope"}, format="json"
    )
    _assert_envelope(wrong, 400, "validation_error")
    _assert_envelope(api.get("/api/v1/me/"), 401, "not_authenticated")
    api.credentials(HTTP_AUTHORIZATION="Token not-a-token")
    _assert_envelope(api.get("/api/v1/me/"), 401, "not_authenticated")


@pytest.mark.django_db
@override_settings(LOGIN_RATE="3/min")
def test_login_is_rate_limited_with_the_envelope():
    make_user("someone")
    api = APIClient()
    statuses = [
        api.post(
            "/api/v1/auth/token/", {"username": "someone", "password": "nope"}, format="json"
        ).status_code
        for _ in range(3)
    ]
    assert statuses == [400, 400, 400]
    blocked = api.post(
        "/api/v1/auth/token/", {"username": "someone", "password": PASSWORD}, format="json"
    )
    error = _assert_envelope(blocked, 429, "rate_limited")
    assert int(blocked["Retry-After"]) > 0
    assert "try again" in error["message"]


@pytest.mark.django_db
def test_users_are_for_site_admins(site_admin, desk):
    agent_api = APIClient()
    agent_api.force_authenticate(desk["agent"])
    _assert_envelope(agent_api.get("/api/v1/users/"), 403, "permission_denied")
    api = APIClient()
    api.force_authenticate(site_admin)
    created = api.post(
        "/api/v1/users/",
        {
            "username": "newbie",
            "email": "n@example.com",
            "password": "a-long-secret-123",
            "full_name": "New Bie",
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    assert created.json()["full_name"] == "New Bie"
    assert "password" not in created.json()
    weak = api.post("/api/v1/users/", {"username": "weak", "password": "123"}, format="json")
    assert _assert_envelope(weak, 400, "validation_error")["details"]["fields"]["password"]
    dup = api.post(
        "/api/v1/users/", {"username": "NEWBIE", "password": "a-long-secret-123"}, format="json"
    )
    _assert_envelope(dup, 409, "conflict")
    listed = api.get("/api/v1/users/?page_size=2").json()
    assert [u["username"] for u in listed["results"]] == ["admin", "agent"]
    assert listed["next"] is not None
    off = api.patch("/api/v1/users/newbie/", {"is_active": False}, format="json")
    assert off.status_code == 200 and off.json()["is_active"] is False
    login = APIClient().post(
        "/api/v1/auth/token/",
        {"username": "newbie", "password": "a-long-secret-123"},
        format="json",
    )
    assert login.status_code == 400


@pytest.mark.django_db
def test_meta_schema_and_docs(client):
    meta = client.get("/api/v1/meta/").json()
    assert set(meta) == {"version", "ws_url"}
    assert meta["ws_url"].startswith("ws://")
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert schema.status_code == 200
    assert "/api/v1/auth/token/" in schema.json()["paths"]
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    assert b"swagger-ui" in docs.content


# --- real processes -----------------------------------------------------------------------------


@pytest.mark.live
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_a_task_over_the_real_broker():
    from tests_support.live import celery_worker
    from tickets.tasks import ping_task

    with celery_worker():
        assert ping_task.delay("hello").get(timeout=30) == "pong:hello"


@pytest.mark.live
@pytest.mark.django_db(transaction=True)
def test_gunicorn_serves_the_api_with_envelopes():
    import httpx

    from tests_support.live import gunicorn_server

    with gunicorn_server() as base:
        assert httpx.get(f"{base}/healthz").json() == {"status": "ok"}
        missing = httpx.get(f"{base}/api/v1/nope/", headers={"X-Request-ID": "live-1"})
        assert missing.status_code == 404
        assert missing.json()["error"]["request_id"] == "live-1"


@pytest.mark.live
@pytest.mark.django_db(transaction=True)
def test_a_real_websocket_client_hears_a_push_through_the_redis_channel_layer():
    import websockets
    from rest_framework.authtoken.models import Token

    from notifications.realtime import push_to_user
    from tests_support.live import asgi_server

    user = make_user("wsuser")
    token = Token.objects.create(user=user).key

    async def scenario(base: str) -> list[dict]:
        async with websockets.connect(f"{base}/ws/me/?token={token}") as ws:
            welcome = json.loads(await asyncio.wait_for(ws.recv(), 5))
            await asyncio.to_thread(push_to_user, user.pk, {"type": "notification", "text": "hi"})
            pushed = json.loads(await asyncio.wait_for(ws.recv(), 5))
            return [welcome, pushed]

    with asgi_server() as base:
        welcome, pushed = asyncio.run(scenario(base))
        assert welcome == {"type": "welcome", "user": "wsuser"}
        assert pushed == {"type": "notification", "text": "hi"}

        async def refused() -> int | None:
            async with websockets.connect(f"{base}/ws/me/?token=wrong") as ws:
                try:
                    await asyncio.wait_for(ws.recv(), 5)
                except websockets.ConnectionClosed as closed:
                    return closed.rcvd.code if closed.rcvd else None
            return None

        assert asyncio.run(refused()) == 4401


def _forbidden(request):
    from django.core.exceptions import PermissionDenied

    raise PermissionDenied


def _too_big(request):
    from django.core.exceptions import RequestDataTooBig

    raise RequestDataTooBig("too big")


urlpatterns += [path("forbidden/", _forbidden), path("too-big/", _too_big)]


@pytest.mark.django_db
@override_settings(ROOT_URLCONF=__name__)
def test_djangos_own_exceptions_keep_their_status_in_the_envelope():
    client = APIClient(raise_request_exception=False)
    _assert_envelope(client.get("/forbidden/"), 403, "permission_denied")
    _assert_envelope(client.get("/too-big/"), 413, "payload_too_large")


@pytest.mark.django_db
def test_token_of_a_deactivated_user_is_refused_and_the_user_is_fully_loaded():
    from rest_framework.authtoken.models import Token

    from config.auth import user_for_token

    user = make_user("leaver")
    key = Token.objects.create(user=user).key
    loaded = user_for_token(key)
    assert loaded is not None
    assert (loaded.pk, loaded.username, loaded.email, loaded.is_active) == (
        user.pk,
        "leaver",
        "leaver@example.com",
        True,
    )
    assert loaded._state.adding is False
    assert user_for_token("no-such-key") is None
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert api.get("/api/v1/me/").json()["username"] == "leaver"
    user.is_active = False
    user.save(update_fields=["is_active"])
    _assert_envelope(api.get("/api/v1/me/"), 401, "not_authenticated")
