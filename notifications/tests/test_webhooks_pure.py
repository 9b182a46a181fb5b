"""Signing, retry timing and URL safety: pure logic, checked against the reference library."""

from __future__ import annotations

import base64
import json
import time
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from standardwebhooks.webhooks import Webhook as ReferenceWebhook
from standardwebhooks.webhooks import WebhookVerificationError

from notifications.webhooks.retry import (
    backoff_seconds,
    next_delay,
    outcome_for_status,
    parse_retry_after,
    schedule_seconds,
)
from notifications.webhooks.signing import (
    generate_secret,
    new_message_id,
    secret_key,
    signature_header,
    webhook_headers,
)
from notifications.webhooks.urlsafety import (
    HostUnresolvable,
    UnsafeURL,
    check_url,
    parse_networks,
)

BODY = json.dumps({"id": "msg_1", "type": "ticket.moved", "data": {"id": 1}}).encode()


def _signed(secrets: list[str], body: bytes = BODY, *, at: int | None = None) -> dict[str, str]:
    return webhook_headers(secrets, "msg_1", int(time.time()) if at is None else at, body)


# --- signing ------------------------------------------------------------------------------------


def test_secrets_are_whsec_and_32_random_bytes():
    first, second = generate_secret(), generate_secret()
    assert first.startswith("whsec_") and second.startswith("whsec_")
    assert len(secret_key(first)) == 32
    assert first != second
    assert new_message_id().startswith("msg_") and new_message_id() != new_message_id()


def test_our_signature_verifies_with_the_reference_library():
    secret = generate_secret()
    headers = _signed([secret])
    assert set(headers) == {"content-type", "webhook-id", "webhook-timestamp", "webhook-signature"}
    assert headers["webhook-signature"].startswith("v1,")
    assert ReferenceWebhook(secret).verify(BODY, headers) == json.loads(BODY)


def test_the_reference_library_rejects_a_tampered_body_a_wrong_secret_and_an_old_timestamp():
    secret = generate_secret()
    headers = _signed([secret])
    with pytest.raises(WebhookVerificationError, match="No matching signature"):
        ReferenceWebhook(secret).verify(BODY.replace(b"ticket.moved", b"ticket.MOVED"), headers)
    with pytest.raises(WebhookVerificationError, match="No matching signature"):
        ReferenceWebhook(generate_secret()).verify(BODY, headers)
    old = _signed([secret], at=int(time.time()) - 6 * 60)
    with pytest.raises(WebhookVerificationError, match="too old"):
        ReferenceWebhook(secret).verify(BODY, old)


def test_during_a_rotation_both_secrets_sign_and_either_verifies():
    old, new = generate_secret(), generate_secret()
    headers = _signed([new, old])
    signatures = headers["webhook-signature"].split(" ")
    assert len(signatures) == 2 and all(s.startswith("v1,") for s in signatures)
    assert ReferenceWebhook(new).verify(BODY, headers) == json.loads(BODY)
    assert ReferenceWebhook(old).verify(BODY, headers) == json.loads(BODY)
    with pytest.raises(WebhookVerificationError):
        ReferenceWebhook(generate_secret()).verify(BODY, headers)


def test_the_signature_covers_id_timestamp_and_body_exactly():
    import hashlib
    import hmac

    secret = generate_secret()
    expected = base64.b64encode(
        hmac.new(secret_key(secret), b"msg_1.1700000000." + BODY, hashlib.sha256).digest()
    ).decode()
    assert signature_header([secret], "msg_1", 1700000000, BODY) == f"v1,{expected}"
    with pytest.raises(ValueError):
        signature_header([], "msg_1", 1, BODY)


# --- retry timing -------------------------------------------------------------------------------

CAP = 8 * 3600.0


def backoff(attempt: int, r: float = 0.5) -> float:
    """The default schedule's delay with a fixed jitter draw (0.5 = none)."""
    return backoff_seconds(attempt, base=5.0, factor=2.0, cap=CAP, rand=lambda: r)


def delay(attempt: int, retry_after: float | None) -> float:
    return next_delay(
        attempt,
        retry_after=retry_after,
        base=5.0,
        factor=2.0,
        cap=CAP,
        retry_after_cap=3600.0,
        rand=lambda: 0.5,
    )


def test_the_default_schedule_spans_about_three_days():
    total = schedule_seconds(22, base=5.0, factor=2.0, cap=CAP)
    assert 2.9 * 86400 < total < 3.3 * 86400
    assert [backoff(n) for n in (1, 2, 3, 4)] == [
        5,
        10,
        20,
        40,
    ]
    assert backoff(30) == 8 * 3600


@given(attempt=st.integers(min_value=1, max_value=40), r=st.floats(min_value=0, max_value=0.999999))
def test_jitter_stays_within_a_quarter_of_the_nominal_delay(attempt, r):
    nominal = backoff(attempt)
    jittered = backoff(attempt, r)
    assert 0.75 * nominal - 1e-9 <= jittered <= 1.25 * nominal + 1e-9


def test_backoff_is_one_based():
    with pytest.raises(ValueError):
        backoff_seconds(0, base=5.0, factor=2.0, cap=CAP)


def test_retry_after_as_seconds_or_http_date():
    now = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after("Thu, 01 Jan 2026 12:05:00 GMT", now=now) == 300.0
    assert parse_retry_after("Thu, 01 Jan 2026 11:00:00 GMT", now=now) == 0.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None
    assert parse_retry_after("-5") is None


def test_next_delay_honours_a_longer_retry_after_up_to_a_cap():
    assert delay(1, None) == 5
    assert delay(1, 90.0) == 90
    assert delay(4, 1.0) == 40
    assert delay(1, 10 * 86400.0) == 3600


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (200, "succeeded"),
        (204, "succeeded"),
        (None, "retry"),
        (500, "retry"),
        (503, "retry"),
        (429, "retry"),
        (400, "failed"),
        (401, "failed"),
        (404, "failed"),
        (410, "failed"),
        (301, "failed"),
        (302, "failed"),
    ],
)
def test_what_is_retried(status, outcome):
    assert outcome_for_status(status) == outcome


# --- URL safety ---------------------------------------------------------------------------------


def _resolver(*addresses: str):
    return lambda host, port: list(addresses)


@pytest.mark.parametrize(
    "address",
    [
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "127.0.0.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "::1",
        "fe80::1",
        "fc00::1",
        "::ffff:127.0.0.1",
        "2002:7f00:1::1",
        "224.0.0.1",
    ],
)
def test_private_loopback_and_link_local_addresses_are_refused(address):
    with pytest.raises(UnsafeURL, match="private, loopback or link-local"):
        check_url("https://hooks.example.com/in", allowed=[], resolver=_resolver(address))


def test_a_public_address_is_accepted_and_pinned():
    target = check_url(
        "https://hooks.example.com:8443/in?x=1", allowed=[], resolver=_resolver("93.184.216.34")
    )
    assert target.addresses == ("93.184.216.34",)
    assert target.url_for("93.184.216.34") == "https://93.184.216.34:8443/in?x=1"
    assert target.host_header == "hooks.example.com:8443"
    v6 = check_url("http://h.example.com/", allowed=[], resolver=_resolver("2606:2800:220:1::1"))
    assert v6.url_for("2606:2800:220:1::1") == "http://[2606:2800:220:1::1]:80/"
    assert v6.host_header == "h.example.com"


def test_one_private_answer_among_public_ones_is_enough_to_refuse():
    with pytest.raises(UnsafeURL, match=r"\(10\.0\.0\.5\)"):
        check_url(
            "https://x.example.com/", allowed=[], resolver=_resolver("93.184.216.34", "10.0.0.5")
        )


def test_the_allow_list_admits_its_networks_only():
    allowed = parse_networks(["127.0.0.0/8", " 10.20.0.0/16 "])
    assert check_url("http://127.0.0.1:9000/h", allowed=allowed, resolver=_resolver("127.0.0.1"))
    assert check_url("http://in.corp/h", allowed=allowed, resolver=_resolver("10.20.3.4"))
    with pytest.raises(UnsafeURL):
        check_url("http://in.corp/h", allowed=allowed, resolver=_resolver("10.21.0.1"))
    with pytest.raises(UnsafeURL):
        check_url("http://localhost/h", allowed=allowed, resolver=_resolver("127.0.0.1", "::1"))


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://example.com/x", "must start with"),
        ("javascript:alert(1)", "must start with"),
        ("https://user:pw@example.com/", "Credentials"),
        ("https:///nohost", "no host"),
        ("https://example.com:99999/", "Not a valid URL"),
    ],
)
def test_malformed_urls_are_refused(url, message):
    with pytest.raises(UnsafeURL, match=message):
        check_url(url, allowed=[], resolver=_resolver("93.184.216.34"))


def test_https_can_be_required_and_unresolvable_hosts_are_their_own_error():
    with pytest.raises(UnsafeURL, match="https://"):
        check_url(
            "http://example.com/",
            allowed=[],
            resolver=_resolver("93.184.216.34"),
            require_https=True,
        )

    def broken(host: str, port: int) -> list[str]:
        raise OSError("Name or service not known")

    with pytest.raises(HostUnresolvable, match="does not resolve"):
        check_url("https://nowhere.invalid/", allowed=[], resolver=broken)
