"""`/api/v1/projects/{key}/webhooks/...`: project admins only, secrets shown once, SSRF refused."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from config.redis import get_redis
from notifications.models import Webhook, WebhookAttempt, WebhookDelivery
from tickets.models import AuditLog

pytestmark = pytest.mark.django_db

BASE = "/api/v1/projects/DESK/webhooks/"
LOCAL = "http://127.0.0.1:9/hooks"


@pytest.fixture
def local_allowed():
    with override_settings(WEBHOOK_ALLOWED_NETWORKS=["127.0.0.0/8"]):
        yield


@pytest.fixture
def admin(desk, as_user):
    return as_user(desk["admin"])


def _create(client, **body):
    return client.post(BASE, {"url": LOCAL, **body}, format="json")


def _queued_tasks() -> list[str]:
    redis = get_redis()
    return [
        json.loads(redis.lindex("helpline", i) or b"{}")["headers"]["task"]
        for i in range(redis.llen("helpline"))
    ]


def test_an_admin_registers_an_endpoint_and_sees_the_secret_once(desk, admin, local_allowed):
    response = _create(admin, events=["ticket.moved", "sla.breached"], description="CRM sync")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["secret"].startswith("whsec_")
    assert body["url"] == LOCAL and body["events"] == ["ticket.moved", "sla.breached"]
    assert body["description"] == "CRM sync" and body["is_active"] is True
    assert body["created_by"] == "admin" and body["consecutive_failures"] == 0
    assert Webhook.objects.get(pk=body["id"]).secret == body["secret"]

    listed = admin.get(BASE).json()["results"]
    assert [w["id"] for w in listed] == [body["id"]]
    assert "secret" not in listed[0]
    detail = admin.get(f"{BASE}{body['id']}/").json()
    assert "secret" not in detail and detail["events"] == ["ticket.moved", "sla.breached"]
    audit = AuditLog.objects.get(action="webhook.created")
    assert body["secret"] not in json.dumps(audit.payload)


def test_events_default_to_everything_and_are_validated(desk, admin, local_allowed):
    assert _create(admin).json()["events"] == ["*"]
    bad = _create(admin, events=["ticket.noted"])
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "validation_error"
    assert _create(admin, events=[]).status_code == 400
    assert _create(admin, events=["*", "ticket.moved"]).status_code == 400


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/x",
        "http://10.0.0.7/x",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/x",
        "http://localhost/x",
        "ftp://example.com/x",
    ],
)
def test_urls_into_our_own_network_are_refused_without_the_allow_list(desk, admin, url):
    response = admin.post(BASE, {"url": url}, format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert "url" in error["details"]["fields"]
    assert Webhook.objects.count() == 0


@pytest.mark.parametrize(
    ("role", "status"),
    [("agent", 403), ("lead", 403), ("manager", 403), ("customer", 403), ("outsider", 404)],
)
def test_only_project_admins_manage_webhooks(desk, as_user, local_allowed, role, status):
    existing = Webhook.objects.create(
        project=desk["project"], url=LOCAL, events=["*"], secret="whsec_AA=="
    )
    client = as_user(desk[role])
    for response in (
        client.get(BASE),
        _create(client),
        client.get(f"{BASE}{existing.pk}/"),
        client.patch(f"{BASE}{existing.pk}/", {"is_active": False}, format="json"),
        client.delete(f"{BASE}{existing.pk}/"),
        client.post(f"{BASE}{existing.pk}/test/"),
        client.post(f"{BASE}{existing.pk}/rotate-secret/"),
        client.get(f"{BASE}{existing.pk}/deliveries/"),
    ):
        assert response.status_code == status, response.content
    assert Webhook.objects.get().is_active is True


def test_a_site_admin_manages_any_project(desk, site_admin, as_user, local_allowed):
    assert _create(as_user(site_admin)).status_code == 201


def test_another_projects_webhook_is_not_found(desk, admin, local_allowed):
    from tests_support.factories import make_project

    other = Webhook.objects.create(
        project=make_project("OTHER"), url=LOCAL, events=["*"], secret="whsec_AA=="
    )
    assert admin.get(f"{BASE}{other.pk}/").status_code == 404
    assert admin.post(f"{BASE}{other.pk}/test/").status_code == 404


def test_patch_changes_the_endpoint_and_re_enabling_clears_the_failure_run(
    desk, admin, local_allowed
):
    created = _create(admin).json()
    Webhook.objects.filter(pk=created["id"]).update(
        is_active=False,
        disabled_at=timezone.now(),
        disabled_reason="30 failed attempts",
        consecutive_failures=30,
        failing_since=timezone.now(),
    )
    response = admin.patch(
        f"{BASE}{created['id']}/",
        {"is_active": True, "events": ["ticket.created"], "url": "http://127.0.0.2/new"},
        format="json",
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["is_active"], body["disabled_reason"], body["consecutive_failures"]) == (
        True,
        "",
        0,
    )
    assert body["events"] == ["ticket.created"] and body["url"] == "http://127.0.0.2/new"
    refused = admin.patch(f"{BASE}{created['id']}/", {"url": "http://10.1.1.1/"}, format="json")
    assert refused.status_code == 400
    assert Webhook.objects.get().url == "http://127.0.0.2/new"


def test_delete_removes_the_endpoint(desk, admin, local_allowed):
    created = _create(admin).json()
    assert admin.delete(f"{BASE}{created['id']}/").status_code == 204
    assert Webhook.objects.count() == 0
    assert admin.delete(f"{BASE}{created['id']}/").status_code == 404


def test_rotating_the_secret_keeps_the_old_one_signing_for_the_overlap(desk, admin, local_allowed):
    created = _create(admin).json()
    before = timezone.now()
    rotated = admin.post(f"{BASE}{created['id']}/rotate-secret/").json()
    assert rotated["secret"].startswith("whsec_") and rotated["secret"] != created["secret"]
    hook = Webhook.objects.get()
    assert hook.previous_secret == created["secret"]
    expires = hook.previous_secret_expires_at
    assert expires is not None
    assert before + timedelta(hours=24) <= expires <= timezone.now() + timedelta(hours=24)
    assert hook.signing_secrets(timezone.now()) == [rotated["secret"], created["secret"]]

    again = admin.post(
        f"{BASE}{created['id']}/rotate-secret/", {"overlap_seconds": 0}, format="json"
    ).json()
    hook.refresh_from_db()
    assert hook.signing_secrets(timezone.now()) == [again["secret"]]
    assert (
        admin.post(
            f"{BASE}{created['id']}/rotate-secret/", {"overlap_seconds": -1}, format="json"
        ).status_code
        == 400
    )


def test_test_ping_queues_a_delivery_after_commit(
    desk, admin, local_allowed, django_capture_on_commit_callbacks
):
    created = _create(admin).json()
    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post(f"{BASE}{created['id']}/test/")
    assert response.status_code == 202
    body = response.json()
    assert body["event_type"] == "webhook.test" and body["status"] == "pending"
    assert body["payload"]["type"] == "webhook.test" and body["payload"]["id"] == body["event_id"]
    assert _queued_tasks() == ["notifications.tasks.deliver_webhook_task"]


def _delivery(hook_id: int, *, status: str = "failed", attempts: int = 2) -> WebhookDelivery:
    delivery = WebhookDelivery.objects.create(
        webhook_id=hook_id,
        message_id=f"msg_{WebhookDelivery.objects.count()}",
        event_type="ticket.moved",
        payload=json.dumps({"id": "msg", "type": "ticket.moved", "timestamp": "t", "data": {}}),
        status=status,
        attempts=attempts,
        run_attempts=attempts,
    )
    for n in range(1, attempts + 1):
        WebhookAttempt.objects.create(
            delivery=delivery,
            number=n,
            started_at=timezone.now(),
            duration_ms=12,
            response_status=500,
            response_excerpt="boom",
            outcome="retry" if n < attempts else "failed",
        )
    return delivery


def test_the_delivery_log_lists_attempts_and_filters_by_status(desk, admin, local_allowed):
    hook = _create(admin).json()
    failed = _delivery(hook["id"])
    done = _delivery(hook["id"], status="succeeded", attempts=1)
    response = admin.get(f"{BASE}{hook['id']}/deliveries/")
    assert response.status_code == 200
    rows = response.json()["results"]
    assert [r["id"] for r in rows] == [done.pk, failed.pk]
    assert rows[1]["attempts"] == 2 and rows[1]["event_id"] == failed.message_id
    assert [a["number"] for a in rows[1]["attempt_log"]] == [1, 2]
    assert rows[1]["attempt_log"][0] == {
        "number": 1,
        "started_at": rows[1]["attempt_log"][0]["started_at"],
        "duration_ms": 12,
        "response_status": 500,
        "response_excerpt": "boom",
        "error": "",
        "outcome": "retry",
    }
    only_failed = admin.get(f"{BASE}{hook['id']}/deliveries/?status=failed").json()["results"]
    assert [r["id"] for r in only_failed] == [failed.pk]
    assert admin.get(f"{BASE}{hook['id']}/deliveries/?status=lost").status_code == 400
    detail = admin.get(f"{BASE}{hook['id']}/deliveries/{failed.pk}/")
    assert detail.json()["id"] == failed.pk


def test_the_delivery_log_costs_the_same_queries_for_one_or_many(desk, admin, local_allowed):
    hook = _create(admin).json()
    _delivery(hook["id"])
    with CaptureQueriesContext(connection) as one:
        admin.get(f"{BASE}{hook['id']}/deliveries/")
    for _ in range(5):
        _delivery(hook["id"], attempts=3)
    with CaptureQueriesContext(connection) as many:
        assert len(admin.get(f"{BASE}{hook['id']}/deliveries/").json()["results"]) == 6
    assert len(many.captured_queries) == len(one.captured_queries)


def test_redeliver_requeues_the_same_delivery_with_a_fresh_run(
    desk, admin, local_allowed, django_capture_on_commit_callbacks
):
    hook = _create(admin).json()
    failed = _delivery(hook["id"], attempts=3)
    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post(f"{BASE}{hook['id']}/deliveries/{failed.pk}/redeliver/")
    assert response.status_code == 202
    failed.refresh_from_db()
    assert (failed.status, failed.run_attempts, failed.attempts) == ("pending", 0, 3)
    assert failed.message_id == response.json()["event_id"]
    assert _queued_tasks() == ["notifications.tasks.deliver_webhook_task"]
    other = _create(admin).json()
    assert admin.post(f"{BASE}{other['id']}/deliveries/{failed.pk}/redeliver/").status_code == 404


def test_redeliver_refuses_while_an_attempt_is_in_flight_or_the_endpoint_is_off(
    desk, admin, local_allowed
):
    hook = _create(admin).json()
    busy = _delivery(hook["id"])
    WebhookDelivery.objects.filter(pk=busy.pk).update(
        claimed_until=timezone.now() + timedelta(seconds=30)
    )
    response = admin.post(f"{BASE}{hook['id']}/deliveries/{busy.pk}/redeliver/")
    assert response.status_code == 409 and response.json()["error"]["code"] == "conflict"
    WebhookDelivery.objects.filter(pk=busy.pk).update(claimed_until=None)
    Webhook.objects.filter(pk=hook["id"]).update(is_active=False)
    assert admin.post(f"{BASE}{hook['id']}/deliveries/{busy.pk}/redeliver/").status_code == 409


def test_webhook_endpoints_are_in_the_schema(admin):
    paths = admin.get("/api/schema/?format=json").json()["paths"]
    for path in (
        "/api/v1/projects/{key}/webhooks/",
        "/api/v1/projects/{key}/webhooks/{webhook_id}/",
        "/api/v1/projects/{key}/webhooks/{webhook_id}/deliveries/",
        "/api/v1/projects/{key}/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver/",
        "/api/v1/projects/{key}/webhooks/{webhook_id}/test/",
        "/api/v1/projects/{key}/webhooks/{webhook_id}/rotate-secret/",
        "/api/v1/notifications/",
        "/api/v1/notifications/{id}/read/",
        "/api/v1/notifications/read-all/",
        "/api/v1/notification-preferences/",
    ):
        assert path in paths, path
