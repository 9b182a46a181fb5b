"""The stores against real back ends: a local S3 server (moto) and the file system."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import httpx
import pytest

from exports.models import ExportJob, ExportStatus
from exports.services import request_export, run_export
from exports.storage import BackgroundUpload, FilesystemStore, FilesystemUpload, S3Store, get_store
from exports.tests.bulk import bulk_tickets
from exports.tests.conftest import S3Server, bucket_keys, incomplete_uploads
from exports.writers import S3_MIN_PART_SIZE
from tests_support.factories import make_ticket


@pytest.mark.django_db(transaction=True)
def test_a_large_export_goes_up_as_multipart_and_downloads_by_presigned_url(
    desk: dict[str, Any], s3: S3Server, settings: Any, as_user: Any
) -> None:
    settings.EXPORT_PART_SIZE = S3_MIN_PART_SIZE
    bulk_tickets(desk["project"], 12_000, description_bytes=900)
    job = request_export(actor=desk["agent"], project_key="DESK", format="csv")
    assert run_export(export_id=job.pk) == "succeeded"
    job.refresh_from_db()
    assert job.storage == "s3"
    assert bucket_keys(s3) == [job.file_key]
    assert incomplete_uploads(s3) == []
    head = s3.client.head_object(Bucket=s3.bucket, Key=job.file_key)
    assert job.file_size is not None
    assert head["ContentLength"] == job.file_size > 2 * S3_MIN_PART_SIZE
    parts = -(-job.file_size // S3_MIN_PART_SIZE)
    # A multipart object's ETag is "<md5 of the part md5s>-<number of parts>".
    assert head["ETag"].strip('"').endswith(f"-{parts}")
    assert head["ContentType"] == "text/csv; charset=utf-8"

    link = as_user(desk["agent"]).get(f"/api/v1/exports/{job.pk}/").json()["download_url"]
    redirect = as_user(desk["agent"]).get(link.removeprefix("http://testserver"))
    assert redirect.status_code == 302
    presigned = redirect["Location"]
    assert presigned.startswith(f"{s3.endpoint}/{s3.bucket}/{job.file_key}?")
    assert "X-Amz-Signature=" in presigned and "X-Amz-Expires=300" in presigned
    response = httpx.get(presigned)
    assert response.status_code == 200
    assert hashlib.sha256(response.content).hexdigest() == job.checksum_sha256
    assert response.content.count(b"\r\n") == 12_001
    assert response.headers["content-disposition"] == f'attachment; filename="{job.filename}"'


@pytest.mark.django_db(transaction=True)
def test_a_small_export_is_a_single_put_and_a_rerun_overwrites_it(
    desk: dict[str, Any], s3: S3Server
) -> None:
    make_ticket(desk["project"], desk["agent"], title="small")
    job = request_export(actor=desk["agent"], project_key="DESK", format="jsonl")
    assert run_export(export_id=job.pk) == "succeeded"
    job.refresh_from_db()
    etag = s3.client.head_object(Bucket=s3.bucket, Key=job.file_key)["ETag"].strip('"')
    body = s3.client.get_object(Bucket=s3.bucket, Key=job.file_key)["Body"].read()
    assert etag == hashlib.md5(body).hexdigest()  # noqa: S324 (S3's ETag of a single PUT)
    assert hashlib.sha256(body).hexdigest() == job.checksum_sha256
    # A retry (here: forced back to running, as after a dead worker) overwrites the same key.
    ExportJob.objects.filter(pk=job.pk).update(status=ExportStatus.RUNNING)
    assert run_export(export_id=job.pk) == "succeeded"
    assert bucket_keys(s3) == [job.file_key]
    assert ExportJob.objects.get(pk=job.pk).attempts == 2


def test_s3_upload_aborts_and_discards_incomplete_multipart_uploads(
    s3: S3Server, settings: Any
) -> None:
    store = get_store()
    assert isinstance(store, S3Store)
    upload = store.begin("exports/1/a.csv", content_type="text/csv", attempt=1)
    upload.write(b"x" * S3_MIN_PART_SIZE)
    upload.write(b"y" * 10)  # the first part goes up: a multipart upload now exists
    assert upload.multipart
    assert incomplete_uploads(s3) == ["exports/1/a.csv"]
    # A dead attempt's upload is left behind; the next attempt clears it.
    assert store.discard_incomplete("exports/1/a.csv") == 1
    assert incomplete_uploads(s3) == []
    upload = store.begin("exports/1/a.csv", content_type="text/csv", attempt=2)
    upload.write(b"x" * S3_MIN_PART_SIZE)
    upload.write(b"y")
    upload.abort()
    assert incomplete_uploads(s3) == [] and bucket_keys(s3) == []


def test_filesystem_upload_is_invisible_until_complete(tmp_path: Path) -> None:
    store = FilesystemStore(tmp_path)
    upload = store.begin("exports/7/f.csv", content_type="text/csv", attempt=2)
    upload.write(b"a,b\r\n")
    assert not store.exists("exports/7/f.csv")
    assert store.keys("exports") == ["exports/7/f.csv.partial-2"]
    upload.complete()
    assert store.keys("exports") == ["exports/7/f.csv"]
    assert (tmp_path / "exports/7/f.csv").read_bytes() == b"a,b\r\n"
    aborted = store.begin("exports/7/f.csv", content_type="text/csv", attempt=3)
    aborted.write(b"partial")
    aborted.abort()
    assert store.keys("exports") == ["exports/7/f.csv"]
    store.delete("exports/7/f.csv")
    assert store.keys("exports") == []
    with pytest.raises(ValueError, match="escapes"):
        store.path("../../etc/passwd")


def test_filesystem_upload_flushes_to_disk_as_it_goes(tmp_path: Path, monkeypatch: Any) -> None:
    synced: list[int] = []
    monkeypatch.setattr("exports.storage.os.fdatasync", synced.append)
    monkeypatch.setattr(FilesystemUpload, "SYNC_EVERY", 10)
    upload = FilesystemUpload(tmp_path / "f.csv", attempt=1)
    for part in (b"a" * 6, b"b" * 6, b"c" * 3, b"d" * 20, b"e"):
        upload.write(part)
    # After 12 bytes, then after 23 more; the last byte waits for complete()'s fsync.
    assert len(synced) == 2
    upload.complete()
    assert (tmp_path / "f.csv").read_bytes() == b"a" * 6 + b"b" * 6 + b"c" * 3 + b"d" * 20 + b"e"


def test_background_upload_writes_parts_in_order_and_completes(tmp_path: Path) -> None:
    store = FilesystemStore(tmp_path)
    upload = BackgroundUpload(store.begin("exports/8/f.csv", content_type="text/csv", attempt=1))
    parts = [f"part {n};".encode() * (n + 1) for n in range(200)]
    for part in parts:
        upload.write(part)
    upload.complete()
    assert store.keys("exports") == ["exports/8/f.csv"]
    assert (tmp_path / "exports/8/f.csv").read_bytes() == b"".join(parts)


def test_background_upload_abort_leaves_nothing(tmp_path: Path) -> None:
    store = FilesystemStore(tmp_path)
    upload = BackgroundUpload(store.begin("exports/8/f.csv", content_type="text/csv", attempt=1))
    for _ in range(20):
        upload.write(b"x" * 65536)
    upload.abort()
    assert store.keys("exports") == []


def test_background_upload_raises_the_stores_error(tmp_path: Path) -> None:
    store = FilesystemStore(tmp_path)
    inner = store.begin("exports/8/f.csv", content_type="text/csv", attempt=1)
    assert isinstance(inner, FilesystemUpload)
    inner._file.close()  # type: ignore[union-attr]
    inner._file = Path("/dev/full").open("wb")  # noqa: SIM115 (a disk that is full)
    upload = BackgroundUpload(inner)
    # The thread fails on the first part; a write that finds the error raises it rather than
    # waiting on a queue nobody empties (with two parts queued, by the fifth write at the latest).
    with pytest.raises(OSError, match="No space left on device"):
        for _ in range(5):
            upload.write(b"x" * (1 << 20))
    with pytest.raises(OSError, match="No space left on device"):
        upload.complete()
    upload.abort()
    assert store.keys("exports") == []
