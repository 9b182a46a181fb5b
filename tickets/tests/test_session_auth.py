"""Browser sign-in: the session cookie, CSRF on unsafe methods, sign-out, and sign-in throttles.

Every client here enforces CSRF the way a browser request meets it (`enforce_csrf_checks=True`):
Django's test client skips the check otherwise.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import override_settings
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests_support.factories import PASSWORD, make_user

pytestmark = pytest.mark.django_db

SESSION = "/api/v1/auth/session/"
CSRF = "/api/v1/auth/csrf/"
WRONG = "Wrong username or password."


def browser() -> APIClient:
    return APIClient(enforce_csrf_checks=True)


def error_of(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details", "request_id"}
    assert body["error"]["code"] == code
    assert body["error"]["request_id"] == response["X-Request-ID"]
    return body["error"]


def csrf_token(client: APIClient) -> str:
    response = client.get(CSRF)
    assert response.status_code == 204
    assert response.content == b""
    token = response.cookies["csrftoken"].value
    assert len(token) == 32
    return token


def sign_in(client: APIClient, username: str, password: str = PASSWORD, **extra: Any) -> Any:
    return client.post(
        SESSION,
        {"username": username, "password": password},
        format="json",
        HTTP_X_CSRFTOKEN=csrf_token(client),
        **extra,
    )


def me_by_token(user: Any) -> dict[str, Any]:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    response = api.get("/api/v1/me/")
    assert response.status_code == 200
    return dict(response.json())


def test_the_csrf_endpoint_sets_the_cookie_without_credentials():
    client = browser()
    response = client.get(CSRF)
    assert response.status_code == 204
    assert response.content == b""
    cookie = response.cookies["csrftoken"]
    assert len(cookie.value) == 32
    assert cookie["httponly"] == ""  # the page's script reads it to send X-CSRFToken
    assert cookie["samesite"] == "Lax"


def test_sign_in_sets_the_session_cookie_and_returns_the_caller_as_me_does(desk):
    client = browser()
    before = csrf_token(client)
    response = client.post(
        SESSION,
        {"username": "agent", "password": PASSWORD},
        format="json",
        HTTP_X_CSRFTOKEN=before,
    )
    assert response.status_code == 200, response.content
    expected = {
        "id": desk["agent"].pk,
        "username": "agent",
        "email": "agent@example.com",
        "full_name": "",
        "is_superuser": False,
        "memberships": [{"project": "DESK", "project_name": "DESK project", "role": "agent"}],
    }
    assert response.json() == expected
    assert me_by_token(desk["agent"]) == expected
    session = response.cookies["sessionid"]
    assert session.value
    assert session["httponly"] is True
    assert session["samesite"] == "Lax"
    # Signing in rotates the CSRF token (Django's login()): the page must use the new cookie.
    rotated = response.cookies["csrftoken"].value
    assert len(rotated) == 32 and rotated != before
    me = client.get("/api/v1/me/")
    assert me.status_code == 200
    assert me.json() == expected


def test_sign_in_without_the_csrf_header_is_refused(desk):
    client = browser()
    csrf_token(client)
    refused = client.post(SESSION, {"username": "agent", "password": PASSWORD}, format="json")
    error = error_of(refused, 403, "permission_denied")
    assert "CSRF" in error["message"]
    assert "sessionid" not in refused.cookies
    assert client.get("/api/v1/me/").status_code == 401
    # Positive control: the same client and body with the header signs in.
    assert sign_in(client, "agent").status_code == 200
    assert client.get("/api/v1/me/").status_code == 200


@pytest.mark.parametrize(
    ("username", "password"),
    [("agent", "not-the-password"), ("nobody", PASSWORD), ("retired", PASSWORD)],
)
def test_wrong_credentials_are_a_400_with_one_message(desk, username, password):
    make_user("retired", is_active=False)
    client = browser()
    response = sign_in(client, username, password)
    error = error_of(response, 400, "validation_error")
    assert error["message"] == WRONG
    assert error["details"] == {"fields": {"non_field_errors": [WRONG]}}
    assert "sessionid" not in response.cookies
    assert client.get("/api/v1/me/").status_code == 401


def test_a_missing_field_is_a_400_naming_it():
    client = browser()
    response = client.post(
        SESSION, {"username": "agent"}, format="json", HTTP_X_CSRFTOKEN=csrf_token(client)
    )
    error = error_of(response, 400, "validation_error")
    assert error["details"] == {"fields": {"password": ["This field is required."]}}


def test_unsafe_methods_under_a_session_need_the_csrf_header(desk):
    from tickets.models import Ticket

    client = browser()
    assert sign_in(client, "agent").status_code == 200
    token = client.cookies["csrftoken"].value
    body = {"project": "DESK", "title": "From the browser"}
    refused = client.post("/api/v1/tickets/", body, format="json")
    assert "CSRF" in error_of(refused, 403, "permission_denied")["message"]
    assert Ticket.objects.filter(title="From the browser").count() == 0
    wrong = client.post("/api/v1/tickets/", body, format="json", HTTP_X_CSRFTOKEN="x" * 32)
    error_of(wrong, 403, "permission_denied")
    # Safe methods need nothing; the header makes the write go through.
    assert client.get("/api/v1/tickets/").status_code == 200
    created = client.post("/api/v1/tickets/", body, format="json", HTTP_X_CSRFTOKEN=token)
    assert created.status_code == 201, created.content
    assert Ticket.objects.filter(title="From the browser").count() == 1


def test_token_auth_is_not_csrf_checked(desk):
    from tickets.models import Ticket

    client = browser()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=desk['agent']).key}")
    created = client.post(
        "/api/v1/tickets/", {"project": "DESK", "title": "From a script"}, format="json"
    )
    assert created.status_code == 201, created.content
    assert Ticket.objects.filter(title="From a script").count() == 1


def test_sign_out_ends_the_session_and_needs_the_csrf_header(desk):
    client = browser()
    assert sign_in(client, "agent").status_code == 200
    refused = client.delete(SESSION)
    error_of(refused, 403, "permission_denied")
    assert client.get("/api/v1/me/").status_code == 200  # still signed in
    out = client.delete(SESSION, HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value)
    assert out.status_code == 204
    assert out.content == b""
    assert out.cookies["sessionid"].value == ""  # the cookie is deleted
    error_of(client.get("/api/v1/me/"), 401, "not_authenticated")
    # Signing out when not signed in is harmless.
    assert browser().delete(SESSION).status_code == 204


@override_settings(LOGIN_RATE="3/min", LOGIN_ADDRESS_RATE="100/min")
def test_sign_in_is_throttled_per_username_whatever_the_address(desk):
    statuses = [
        sign_in(browser(), "Agent", "wrong", REMOTE_ADDR=f"198.51.100.{n}").status_code
        for n in range(3)
    ]
    assert statuses == [400, 400, 400]
    # The username is compared case-insensitively, and the right password does not help.
    blocked = sign_in(browser(), "agent", REMOTE_ADDR="198.51.100.9")
    error = error_of(blocked, 429, "rate_limited")
    wait = int(blocked["Retry-After"])
    assert 1 <= wait <= 60
    assert error["message"] == f"Too many attempts; try again in {wait} seconds."
    # The token endpoint shares the count.
    token = APIClient().post(
        "/api/v1/auth/token/",
        {"username": "agent", "password": PASSWORD},
        format="json",
        REMOTE_ADDR="198.51.100.10",
    )
    error_of(token, 429, "rate_limited")
    # Another username from the same addresses is untouched.
    assert sign_in(browser(), "lead", REMOTE_ADDR="198.51.100.0").status_code == 200


@override_settings(LOGIN_RATE="100/min", LOGIN_ADDRESS_RATE="3/min")
def test_sign_in_is_throttled_per_address_whatever_the_username(desk):
    statuses = [
        sign_in(browser(), name, "wrong", REMOTE_ADDR="203.0.113.5").status_code
        for name in ("agent", "lead", "manager")
    ]
    assert statuses == [400, 400, 400]
    blocked = sign_in(browser(), "admin", REMOTE_ADDR="203.0.113.5")
    error_of(blocked, 429, "rate_limited")
    assert 1 <= int(blocked["Retry-After"]) <= 60
    # Another address signs the same user in.
    assert sign_in(browser(), "admin", REMOTE_ADDR="203.0.113.6").status_code == 200
