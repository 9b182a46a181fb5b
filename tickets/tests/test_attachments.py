"""Attachments: limits, allow-list, sha256, signed expiring downloads on disk and on real S3."""

from __future__ import annotations

import hashlib

import httpx
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from tests_support.factories import make_ticket
from tickets.models import Attachment, AuditLog

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n" + b"x" * 2048


def upload(
    api,
    ticket_id: int,
    content: bytes = PDF,
    name: str = "report.pdf",
    ctype: str = "application/pdf",
):
    return api.post(
        f"/api/v1/tickets/{ticket_id}/attachments/",
        {"file": SimpleUploadedFile(name, content, content_type=ctype)},
        format="multipart",
    )


@pytest.fixture(autouse=True)
def _media(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path


def test_upload_records_sha256_and_downloads_through_a_signed_url(desk, as_user):
    ticket = make_ticket(desk["project"], desk["customer"])
    api = as_user(desk["customer"])
    response = upload(api, ticket.pk)
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["filename"], body["size"], body["sha256"]) == (
        "report.pdf",
        len(PDF),
        hashlib.sha256(PDF).hexdigest(),
    )
    redirect = api.get(f"/api/v1/attachments/{body['id']}/download/")
    assert redirect.status_code == 302
    signed = redirect["Location"]
    assert "/api/v1/attachments/file/" in signed
    from rest_framework.test import APIClient

    anonymous = APIClient().get(signed)  # the signature is the credential
    assert anonymous.status_code == 200
    assert anonymous.getvalue() == PDF
    assert APIClient().get(signed[:-4] + "xyz/").status_code == 404  # tampered signature
    with override_settings(SIGNED_URL_SECONDS=-1):
        assert APIClient().get(signed).json()["error"]["code"] == "not_found"  # expired


def test_size_limit_is_413_and_type_allow_list_is_400(desk, as_user):
    ticket = make_ticket(desk["project"], desk["agent"])
    api = as_user(desk["agent"])
    with override_settings(ATTACHMENT_MAX_BYTES=1024):
        too_big = upload(api, ticket.pk)
    assert (too_big.status_code, too_big.json()["error"]["code"]) == (413, "payload_too_large")
    exe = upload(api, ticket.pk, b"MZ...", "run.exe", "application/x-msdownload")
    assert (exe.status_code, exe.json()["error"]["code"]) == (400, "validation_error")
    assert Attachment.objects.count() == 0


def test_viewing_a_sensitive_tickets_attachment_is_audited(desk, as_user):
    ticket = make_ticket(desk["project"], desk["agent"], is_sensitive=True)
    plain = make_ticket(desk["project"], desk["agent"])
    api = as_user(desk["agent"])
    sensitive_id = upload(api, ticket.pk).json()["id"]
    plain_id = upload(api, plain.pk).json()["id"]
    api.get(f"/api/v1/attachments/{sensitive_id}/download/")
    api.get(f"/api/v1/attachments/{plain_id}/download/")
    viewed = AuditLog.objects.filter(action="attachment.viewed")
    assert [(r.ticket_id, r.actor_id, r.payload["new"]["attachment_id"]) for r in viewed] == [
        (ticket.pk, desk["agent"].pk, sensitive_id)
    ]


def test_attachments_of_invisible_tickets_are_404(desk, as_user):
    ticket = make_ticket(desk["project"], desk["customer2"])
    attachment_id = upload(as_user(desk["agent"]), ticket.pk).json()["id"]
    assert (
        as_user(desk["customer"]).get(f"/api/v1/attachments/{attachment_id}/download/").status_code
        == 404
    )
    assert upload(as_user(desk["customer"]), ticket.pk).status_code == 404


@pytest.mark.live
def test_s3_path_against_a_real_local_s3_server(desk, as_user):
    from tests_support.s3 import s3_server

    ticket = make_ticket(desk["project"], desk["agent"])
    api = as_user(desk["agent"])
    with s3_server() as s3:
        response = upload(api, ticket.pk)
        assert response.status_code == 201, response.content
        key = Attachment.objects.get().file.name
        stored = s3["client"].get_object(Bucket=s3["bucket"], Key=key)["Body"].read()
        assert stored == PDF
        redirect = api.get(f"/api/v1/attachments/{response.json()['id']}/download/")
        assert redirect.status_code == 302
        presigned = redirect["Location"]
        assert presigned.startswith(s3["endpoint"])
        assert "X-Amz-Signature=" in presigned and "X-Amz-Expires=300" in presigned
        fetched = httpx.get(presigned)
        assert fetched.status_code == 200
        assert fetched.content == PDF
