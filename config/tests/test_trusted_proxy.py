"""One trusted-proxy setting (TRUSTED_PROXY_COUNT) decides the client address everywhere: the
sign-in throttle's key, the audit trail's IP, DRF's NUM_PROXIES and the SSL header."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from tests_support.factories import PASSWORD, make_ticket
from tests_support.live import ROOT, process_env

SESSION = "/api/v1/auth/session/"


def settings_with(**env: str) -> dict[str, Any]:
    """The settings a fresh process derives from this environment."""
    code = (
        "import django, json; django.setup(); from django.conf import settings as s;"
        "print(json.dumps({'num_proxies': s.REST_FRAMEWORK.get('NUM_PROXIES', 'unset'),"
        "'ssl_header': s.SECURE_PROXY_SSL_HEADER, 'count': s.TRUSTED_PROXY_COUNT}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=process_env(**env),
        capture_output=True,
        text=True,
        check=True,
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def test_the_setting_feeds_drf_and_the_ssl_header():
    assert settings_with() == {"num_proxies": 0, "ssl_header": None, "count": 0}
    assert settings_with(TRUSTED_PROXY_COUNT="1") == {
        "num_proxies": 1,
        "ssl_header": ["HTTP_X_FORWARDED_PROTO", "https"],
        "count": 1,
    }


def attempt(username: str, *, forwarded: str, remote: str = "192.0.2.1") -> int:
    """One wrong sign-in through the token endpoint; its status code."""
    return int(
        APIClient()
        .post(
            "/api/v1/auth/token/",
            {"username": username, "password": "wrong"},
            format="json",
            REMOTE_ADDR=remote,
            HTTP_X_FORWARDED_FOR=forwarded,
        )
        .status_code
    )


@pytest.mark.django_db
@override_settings(LOGIN_RATE="100/min", LOGIN_ADDRESS_RATE="3/min", TRUSTED_PROXY_COUNT=0)
def test_a_forged_forwarded_for_does_not_change_the_throttle_key_without_a_trusted_proxy():
    statuses = [attempt(f"user{n}", forwarded=f"198.51.100.{n}") for n in range(4)]
    assert statuses == [400, 400, 400, 429]
    # Positive control: the count is the connecting address's (another one is not throttled).
    assert attempt("user9", forwarded="198.51.100.9", remote="192.0.2.2") == 400


@pytest.mark.django_db
@override_settings(LOGIN_RATE="100/min", LOGIN_ADDRESS_RATE="3/min", TRUSTED_PROXY_COUNT=1)
def test_behind_one_trusted_proxy_the_right_most_forwarded_address_is_the_client():
    # What a client puts on the left is forged; the proxy appends the address it saw.
    statuses = [attempt(f"user{n}", forwarded=f"6.6.6.{n}, 203.0.113.7") for n in range(4)]
    assert statuses == [400, 400, 400, 429]
    # Another client behind the same proxy (same REMOTE_ADDR) has its own count.
    assert attempt("user9", forwarded="6.6.6.1, 203.0.113.8") == 400
    # No header at all: the connecting address.
    assert attempt("user10", forwarded="") == 400


def audited_ip(desk: dict[str, Any], **headers: Any) -> str | None:
    api = APIClient()
    api.force_authenticate(desk["lead"])
    ticket = make_ticket(desk["project"], desk["lead"])
    response = api.patch(
        f"/api/v1/tickets/{ticket.pk}/", {"priority": "high"}, format="json", **headers
    )
    assert response.status_code == 200, response.content
    rows = api.get(f"/api/v1/tickets/{ticket.pk}/audit/").json()["results"]
    assert [r["action"] for r in rows] == ["ticket.created", "ticket.updated"]
    return rows[1]["ip_address"]


@pytest.mark.django_db
def test_the_audit_ip_follows_the_same_rule(desk):
    forged = {"REMOTE_ADDR": "10.1.2.3", "HTTP_X_FORWARDED_FOR": "6.6.6.6, 203.0.113.7"}
    with override_settings(TRUSTED_PROXY_COUNT=0):
        assert audited_ip(desk, **forged) == "10.1.2.3"
    with override_settings(TRUSTED_PROXY_COUNT=1):
        assert audited_ip(desk, **forged) == "203.0.113.7"
    with override_settings(TRUSTED_PROXY_COUNT=2):
        assert audited_ip(desk, **forged) == "6.6.6.6"
    with override_settings(TRUSTED_PROXY_COUNT=3):  # fewer hops than proxies: the left-most
        assert audited_ip(desk, **forged) == "6.6.6.6"
    # A proxy that passes garbage on: the connecting address, never a 500.
    with override_settings(TRUSTED_PROXY_COUNT=1):
        garbage = {"REMOTE_ADDR": "10.1.2.3", "HTTP_X_FORWARDED_FOR": "not-an-address"}
        assert audited_ip(desk, **garbage) == "10.1.2.3"


@pytest.mark.django_db
def test_a_forged_forwarded_proto_does_not_make_the_request_secure(desk):
    for _ in range(2):
        make_ticket(desk["project"], desk["agent"])
    api = APIClient()
    api.force_authenticate(desk["agent"])

    def next_link() -> str:
        response = api.get("/api/v1/tickets/?page_size=1", HTTP_X_FORWARDED_PROTO="https")
        return str(response.json()["next"])

    assert next_link().startswith("http://testserver/api/v1/tickets/?")
    # Positive control: with the header a trusted proxy gets (TRUSTED_PROXY_COUNT=1), https.
    trusted = settings_with(TRUSTED_PROXY_COUNT="1")["ssl_header"]
    with override_settings(SECURE_PROXY_SSL_HEADER=tuple(trusted)):
        assert next_link().startswith("https://testserver")


@pytest.mark.django_db
@override_settings(TRUSTED_PROXY_COUNT=1, LOGIN_RATE="100/min", LOGIN_ADDRESS_RATE="2/min")
def test_the_session_sign_in_counts_by_the_same_address(desk):
    def sign_in(forwarded: str) -> int:
        client = APIClient(enforce_csrf_checks=True)
        token = client.get("/api/v1/auth/csrf/").cookies["csrftoken"].value
        return int(
            client.post(
                SESSION,
                {"username": "agent", "password": PASSWORD},
                format="json",
                HTTP_X_CSRFTOKEN=token,
                HTTP_X_FORWARDED_FOR=forwarded,
            ).status_code
        )

    assert [sign_in(f"6.6.6.{n}, 203.0.113.50") for n in range(3)] == [200, 200, 429]
    assert sign_in("203.0.113.51") == 200
