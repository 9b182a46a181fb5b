"""The exports HTTP contract: request, follow, list, and download by signed link."""

from __future__ import annotations

import hashlib
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from exports.columns import DEFAULT_FIELDS
from exports.models import ExportJob, ExportStatus
from exports.storage import export_key
from tickets.models import AuditLog, Membership

pytestmark = pytest.mark.django_db

URL = "/api/v1/exports/"


def post(client: APIClient, body: dict[str, Any], capture: Any) -> Any:
    """POST an export request; the response carries the on-commit callbacks it queued."""
    with capture(execute=False) as callbacks:
        response: Any = client.post(URL, body, format="json")
    response.callbacks = callbacks
    return response


def finished(job: ExportJob, root: Path, content: bytes = b"id\r\n1\r\n") -> ExportJob:
    """Give a job the file and fields a successful run leaves."""
    key = export_key(job.pk, job.filename)
    (root / key).parent.mkdir(parents=True, exist_ok=True)
    (root / key).write_bytes(content)
    ExportJob.objects.filter(pk=job.pk).update(
        status=ExportStatus.SUCCEEDED,
        storage="filesystem",
        file_key=key,
        file_size=len(content),
        checksum_sha256=hashlib.sha256(content).hexdigest(),
        rows_done=1,
        rows_total=1,
        expires_at=timezone.now() + timedelta(hours=72),
    )
    return ExportJob.objects.get(pk=job.pk)


def test_post_returns_202_with_the_pending_job_and_queues_it_on_commit(
    desk: dict[str, Any], as_user: Any, django_capture_on_commit_callbacks: Any
) -> None:
    response = post(
        as_user(desk["agent"]),
        {"project": "DESK", "format": "csv", "filters": {"priority": "high,critical"}},
        django_capture_on_commit_callbacks,
    )
    assert response.status_code == 202
    job = ExportJob.objects.get()
    body = response.json()
    assert body == {
        "id": job.pk,
        "project": "DESK",
        "status": "pending",
        "format": "csv",
        "filters": {"priority": ["high", "critical"]},
        "fields": list(DEFAULT_FIELDS),
        "bom": False,
        "rows_done": 0,
        "rows_total": None,
        "file_size": None,
        "checksum_sha256": "",
        "download_url": None,
        "expires_at": None,
        "error": None,
        "attempts": 0,
        "as_of": body["as_of"],
        "created_at": body["created_at"],
        "started_at": None,
        "finished_at": None,
    }
    assert response["Location"] == f"/api/v1/exports/{job.pk}/"
    assert len(response.callbacks) == 1  # the task, queued only once the job is committed
    audit = AuditLog.objects.get(action="export.requested")
    assert audit.actor_id == desk["agent"].pk
    assert audit.payload["new"]["filters"] == {"priority": ["high", "critical"]}


@pytest.mark.parametrize(
    ("body", "field", "detail"),
    [
        ({"format": "xlsx"}, "format", ['"xlsx" is not a valid choice.']),
        ({"fields": ["title", "password"]}, "fields", None),
        ({"fields": []}, "fields", ["Choose at least one field."]),
        ({"fields": ["id", "id"]}, "fields", ["A field is listed twice."]),
        ({"format": "jsonl", "bom": True}, "bom", ["Only CSV files carry a byte-order mark."]),
    ],
)
def test_invalid_requests_are_400_naming_the_field(
    desk: dict[str, Any],
    as_user: Any,
    django_capture_on_commit_callbacks: Any,
    body: dict[str, Any],
    field: str,
    detail: list[str] | None,
) -> None:
    response = post(
        as_user(desk["agent"]),
        {"project": "DESK", "format": "csv", **body},
        django_capture_on_commit_callbacks,
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert list(error["details"]["fields"]) == [field]
    if detail is not None:
        assert error["details"]["fields"][field] == detail
    else:
        assert error["details"]["fields"][field][0].startswith("Unknown field(s) password;")
    assert not ExportJob.objects.exists()
    assert response.callbacks == []


def test_filters_are_validated_by_the_ticket_list_parser(
    desk: dict[str, Any], as_user: Any, django_capture_on_commit_callbacks: Any
) -> None:
    client = as_user(desk["agent"])
    response = post(
        client,
        {"project": "DESK", "format": "csv", "filters": {"priority": "urgent", "archived": "x"}},
        django_capture_on_commit_callbacks,
    )
    assert response.status_code == 400
    details = response.json()["error"]["details"]["fields"]["filters"]
    assert set(details) == {"priority", "archived"}
    assert details["archived"] == ["Expected true, false or all."]
    response = post(
        client,
        {"project": "DESK", "format": "csv", "filters": {"project": "OTHER"}},
        django_capture_on_commit_callbacks,
    )
    assert response.status_code == 400
    assert response.json()["error"]["details"]["fields"]["filters"] == {
        "project": ["Must match the export's project."]
    }
    assert not ExportJob.objects.exists()


def test_only_members_may_export_a_project(
    desk: dict[str, Any], as_user: Any, api: APIClient, django_capture_on_commit_callbacks: Any
) -> None:
    for user in (desk["outsider"],):
        response = post(
            as_user(user), {"project": "DESK", "format": "csv"}, django_capture_on_commit_callbacks
        )
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"
    response = post(
        as_user(desk["agent"]),
        {"project": "NOPE", "format": "csv"},
        django_capture_on_commit_callbacks,
    )
    assert response.status_code == 404
    assert api.post(URL, {"project": "DESK", "format": "csv"}, format="json").status_code == 401
    response = post(
        as_user(desk["customer"]),
        {"project": "DESK", "format": "jsonl"},
        django_capture_on_commit_callbacks,
    )
    assert response.status_code == 202
    assert ExportJob.objects.get().requester == desk["customer"]


def test_a_fourth_export_in_progress_is_429(
    desk: dict[str, Any], as_user: Any, django_capture_on_commit_callbacks: Any
) -> None:
    client = as_user(desk["agent"])
    for _ in range(3):
        assert (
            post(
                client, {"project": "DESK", "format": "csv"}, django_capture_on_commit_callbacks
            ).status_code
            == 202
        )
    response = post(
        client, {"project": "DESK", "format": "csv"}, django_capture_on_commit_callbacks
    )
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "rate_limited"
    assert response.json()["error"]["details"] == {"active": 3, "limit": 3}
    oldest = ExportJob.objects.order_by("pk").first()
    assert oldest is not None
    ExportJob.objects.filter(pk=oldest.pk).update(status=ExportStatus.FAILED)
    assert (
        post(
            client, {"project": "DESK", "format": "csv"}, django_capture_on_commit_callbacks
        ).status_code
        == 202
    )


def test_detail_and_list_show_only_your_own_exports(
    desk: dict[str, Any], as_user: Any, django_capture_on_commit_callbacks: Any
) -> None:
    mine = post(
        as_user(desk["agent"]),
        {"project": "DESK", "format": "csv"},
        django_capture_on_commit_callbacks,
    ).json()
    theirs = post(
        as_user(desk["lead"]),
        {"project": "DESK", "format": "csv"},
        django_capture_on_commit_callbacks,
    ).json()
    client = as_user(desk["agent"])
    assert client.get(f"{URL}{mine['id']}/").json()["id"] == mine["id"]
    response = client.get(f"{URL}{theirs['id']}/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    listed = client.get(URL).json()
    assert [item["id"] for item in listed["results"]] == [mine["id"]]
    assert listed["next"] is None


def test_a_finished_export_downloads_through_its_signed_link(
    desk: dict[str, Any],
    as_user: Any,
    api: APIClient,
    export_root: Path,
    django_capture_on_commit_callbacks: Any,
) -> None:
    created = post(
        as_user(desk["agent"]),
        {"project": "DESK", "format": "csv"},
        django_capture_on_commit_callbacks,
    ).json()
    job = finished(ExportJob.objects.get(pk=created["id"]), export_root, b"id\r\n42\r\n")
    detail = as_user(desk["agent"]).get(f"{URL}{job.pk}/").json()
    assert detail["status"] == "succeeded"
    link = detail["download_url"]
    assert link.startswith(f"http://testserver/api/v1/exports/{job.pk}/download/?sig=")
    response: Any = api.get(link.removeprefix("http://testserver"))  # the link is the credential
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"id\r\n42\r\n"
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="{job.filename}"'
    assert response["X-Checksum-SHA256"] == job.checksum_sha256
    audit = AuditLog.objects.get(action="export.downloaded")
    assert (audit.actor_id, audit.project_id) == (desk["agent"].pk, desk["project"].pk)
    assert audit.payload["new"]["export_id"] == job.pk


def test_bad_expired_and_revoked_links_are_refused(
    desk: dict[str, Any],
    as_user: Any,
    api: APIClient,
    export_root: Path,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    created = post(
        as_user(desk["agent"]),
        {"project": "DESK", "format": "csv"},
        django_capture_on_commit_callbacks,
    ).json()
    job = finished(ExportJob.objects.get(pk=created["id"]), export_root)
    path = f"{URL}{job.pk}/download/"
    assert api.get(path).status_code == 404
    assert api.get(f"{path}?sig=forged").status_code == 404
    good = as_user(desk["agent"]).get(f"{URL}{job.pk}/").json()["download_url"]
    sig = good.split("sig=")[1]
    # The same signature on another export's path does not open it.
    assert api.get(f"{URL}{job.pk + 1}/download/?sig={sig}").status_code == 404
    real_time = time.time
    monkeypatch.setattr("django.core.signing.time.time", lambda: real_time() - 301)
    stale = as_user(desk["agent"]).get(f"{URL}{job.pk}/").json()["download_url"]
    monkeypatch.setattr("django.core.signing.time.time", real_time)
    response = api.get(stale.removeprefix("http://testserver"))
    assert response.status_code == 403
    assert response.json()["error"]["message"] == (
        "This download link has expired; fetch the export again for a fresh link."
    )
    Membership.objects.filter(user=desk["agent"]).delete()
    assert api.get(good.removeprefix("http://testserver")).status_code == 404
    assert not AuditLog.objects.filter(action="export.downloaded").exists()


def test_an_expired_export_has_no_link_and_no_file(
    desk: dict[str, Any],
    as_user: Any,
    api: APIClient,
    export_root: Path,
    django_capture_on_commit_callbacks: Any,
) -> None:
    from exports.services import expire_exports

    created = post(
        as_user(desk["agent"]),
        {"project": "DESK", "format": "csv"},
        django_capture_on_commit_callbacks,
    ).json()
    job = finished(ExportJob.objects.get(pk=created["id"]), export_root)
    link = as_user(desk["agent"]).get(f"{URL}{job.pk}/").json()["download_url"]
    assert expire_exports(now=timezone.now() + timedelta(hours=73)) == 1
    detail = as_user(desk["agent"]).get(f"{URL}{job.pk}/").json()
    assert (detail["status"], detail["download_url"]) == ("expired", None)
    response = api.get(link.removeprefix("http://testserver"))
    assert response.status_code == 404
    assert "expired" in response.json()["error"]["message"]


def test_the_endpoints_are_in_the_schema(api: APIClient) -> None:
    schema = api.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    assert {
        "/api/v1/exports/",
        "/api/v1/exports/{export_id}/",
        "/api/v1/exports/{export_id}/download/",
    } <= set(schema["paths"])
    assert set(schema["paths"]["/api/v1/exports/"]) == {"get", "post"}
