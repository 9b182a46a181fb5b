"""Image and PDF previews: `?inline=true` asks for a signed URL the browser may show in place."""

from __future__ import annotations

import httpx
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from tests_support.factories import make_ticket

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n" + b"x" * 512
INLINE_CSP = (
    "default-src 'none'; img-src 'self'; object-src 'self'; style-src 'unsafe-inline'; "
    "frame-ancestors 'self'"
)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture(autouse=True)
def _media(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path


def upload(api, ticket_id: int, content: bytes, name: str, ctype: str) -> int:
    response = api.post(
        f"/api/v1/tickets/{ticket_id}/attachments/",
        {"file": SimpleUploadedFile(name, content, content_type=ctype)},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    return int(response.json()["id"])


def signed(api, attachment_id: int, query: str = "") -> str:
    redirect = api.get(f"/api/v1/attachments/{attachment_id}/download/{query}")
    assert redirect.status_code == 302
    return str(redirect["Location"])


@pytest.mark.parametrize(
    ("content", "name", "ctype"),
    [(PDF, "report.pdf", "application/pdf"), (PNG, "shot.png", "image/png")],
)
def test_inline_serves_images_and_pdfs_in_place_locked_down(desk, as_user, content, name, ctype):
    ticket = make_ticket(desk["project"], desk["agent"])
    api = as_user(desk["agent"])
    attachment_id = upload(api, ticket.pk, content, name, ctype)
    inline = APIClient().get(signed(api, attachment_id, "?inline=true"))
    assert inline.status_code == 200
    assert inline.getvalue() == content
    assert inline["Content-Type"] == ctype
    assert inline["Content-Disposition"] == f'inline; filename="{name}"'
    assert inline["X-Content-Type-Options"] == "nosniff"
    assert inline["Content-Security-Policy"] == INLINE_CSP
    assert inline["X-Frame-Options"] == "SAMEORIGIN"
    # Positive control: the plain link still downloads.
    plain = APIClient().get(signed(api, attachment_id))
    assert plain["Content-Disposition"] == f'attachment; filename="{name}"'


def test_other_types_are_always_downloaded(desk, as_user):
    ticket = make_ticket(desk["project"], desk["agent"])
    api = as_user(desk["agent"])
    attachment_id = upload(api, ticket.pk, b'{"a": 1}', "data.json", "application/json")
    response = APIClient().get(signed(api, attachment_id, "?inline=true"))
    assert response["Content-Disposition"] == 'attachment; filename="data.json"'


def test_inline_must_be_a_boolean(desk, as_user):
    ticket = make_ticket(desk["project"], desk["agent"])
    api = as_user(desk["agent"])
    attachment_id = upload(api, ticket.pk, PDF, "report.pdf", "application/pdf")
    response = api.get(f"/api/v1/attachments/{attachment_id}/download/?inline=perhaps")
    assert (response.status_code, response.json()["error"]["code"]) == (400, "validation_error")


@pytest.mark.live
def test_inline_on_real_s3(desk, as_user):
    from tests_support.s3 import s3_server

    ticket = make_ticket(desk["project"], desk["agent"])
    api = as_user(desk["agent"])
    with s3_server():
        attachment_id = upload(api, ticket.pk, PDF, "report.pdf", "application/pdf")
        fetched = httpx.get(signed(api, attachment_id, "?inline=true"))
        assert fetched.status_code == 200
        assert fetched.content == PDF
        assert fetched.headers["content-disposition"] == 'inline; filename="report.pdf"'
        assert fetched.headers["content-type"] == "application/pdf"
        plain = httpx.get(signed(api, attachment_id))
        assert plain.headers["content-disposition"] == 'attachment; filename="report.pdf"'
