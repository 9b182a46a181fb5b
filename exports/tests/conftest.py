"""Fixtures of the exports tests: a file-system export root, a real local S3 server (moto)."""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture
def export_root(tmp_path: Path, settings: Any) -> Iterator[Path]:
    """MEDIA_ROOT (the file-system store's root) in a fresh directory."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    }
    yield tmp_path / "media"


def export_files(root: Path) -> list[str]:
    """Every file under the export root, relative, sorted (partials included)."""
    base = root / "exports"
    if not base.exists():
        return []
    return sorted(str(p.relative_to(root)) for p in base.rglob("*") if p.is_file())


@dataclass
class S3Server:
    endpoint: str
    client: Any
    bucket: str

    def env(self) -> dict[str, str]:
        """What a worker process needs in its environment to export to this bucket."""
        return {
            "S3_BUCKET": self.bucket,
            "S3_ENDPOINT_URL": self.endpoint,
            "S3_ACCESS_KEY_ID": "testing",
            "S3_SECRET_ACCESS_KEY": "testing",
            "S3_REGION": "us-east-1",
        }


@pytest.fixture(scope="session")
def _moto_endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    from tests_support.live import free_port

    # The server's request log would bury test output.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


_buckets = itertools.count(1)


@pytest.fixture
def s3(_moto_endpoint: str, settings: Any) -> S3Server:
    """A fresh bucket on a real (local) S3 server, configured as the default storage."""
    import boto3

    bucket = f"exports-{next(_buckets)}"
    client = boto3.client(
        "s3",
        endpoint_url=_moto_endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        region_name="us-east-1",
    )
    client.create_bucket(Bucket=bucket)
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "storages.backends.s3.S3Storage"},
    }
    settings.AWS_STORAGE_BUCKET_NAME = bucket
    settings.AWS_S3_ENDPOINT_URL = _moto_endpoint
    settings.AWS_ACCESS_KEY_ID = "testing"
    settings.AWS_SECRET_ACCESS_KEY = "testing"
    settings.AWS_S3_REGION_NAME = "us-east-1"
    return S3Server(endpoint=_moto_endpoint, client=client, bucket=bucket)


def bucket_keys(server: S3Server) -> list[str]:
    listed = server.client.list_objects_v2(Bucket=server.bucket)
    return sorted(item["Key"] for item in listed.get("Contents", []))


def incomplete_uploads(server: S3Server) -> list[str]:
    listed = server.client.list_multipart_uploads(Bucket=server.bucket)
    return sorted(item["Key"] for item in listed.get("Uploads", []))
