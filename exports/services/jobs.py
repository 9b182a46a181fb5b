"""Asking for an export, and handing out (and honouring) its signed download links."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from rest_framework import status

from config.api import DomainError, Forbidden, InvalidInput, NotFound
from exports.columns import COLUMNS, DEFAULT_FIELDS, unknown_fields
from exports.conf import export_setting
from exports.models import ACTIVE_STATUSES, ExportFormat, ExportJob, ExportStatus
from tickets.audit import record_audit
from tickets.filters import parse_ticket_filters
from tickets.models import User
from tickets.permissions import role_in
from tickets.selectors import get_visible_project

_DOWNLOAD_SALT = "exports.download"


class TooManyExports(DomainError):
    code = "rate_limited"
    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_message = "You have too many exports in progress; wait for one to finish."


def _fields_error(message: str) -> InvalidInput:
    return InvalidInput(f"fields: {message}", details={"fields": {"fields": [message]}})


def _validated_fields(fields: Sequence[str] | None) -> list[str]:
    if fields is None:
        return list(DEFAULT_FIELDS)
    if isinstance(fields, str) or not all(isinstance(name, str) for name in fields):
        raise _fields_error("Expected a list of field names.")
    names = list(fields)
    if not names:
        raise _fields_error("Choose at least one field.")
    unknown = unknown_fields(names)
    if unknown:
        raise _fields_error(
            f"Unknown field(s) {', '.join(unknown)}; choose from {', '.join(COLUMNS)}."
        )
    if len(set(names)) != len(names):
        raise _fields_error("A field is listed twice.")
    return names


def _validated_filters(filters: Mapping[str, Any] | None, project_key: str) -> dict[str, Any]:
    if filters is None:
        filters = {}
    if not isinstance(filters, Mapping):
        raise InvalidInput(
            "filters: Expected an object of ticket-list filters.",
            details={"fields": {"filters": ["Expected an object."]}},
        )
    try:
        parsed = parse_ticket_filters(filters)
    except InvalidInput as exc:
        inner = exc.details.get("fields", exc.details)
        raise InvalidInput(
            f"filters.{exc.message}", details={"fields": {"filters": inner}}
        ) from None
    if parsed.project not in (None, project_key):
        raise InvalidInput(
            "filters.project must be the export's project (or left out).",
            details={"fields": {"filters": {"project": ["Must match the export's project."]}}},
        )
    # as_json() keeps archived="all", so a stored job never silently drops archived tickets.
    return dataclasses.replace(parsed, project=None).as_json()


def request_export(
    *,
    actor: Any,
    project_key: str,
    format: str,
    filters: Mapping[str, Any] | None = None,
    fields: Sequence[str] | None = None,
    bom: bool = False,
) -> ExportJob:
    """Create a pending export of the tickets `actor` may see in a project; it runs on commit.

    The requester must be a member of the project (else 404). Filters are validated with the
    ticket list's own parser and stored canonical; the as-of instant is now.
    """
    from exports.tasks import run_export_task

    project = get_visible_project(actor, project_key)
    if role_in(actor, project) is None:
        raise NotFound(f"No project {project_key!r} that you can see.")
    if format not in ExportFormat.values:
        raise InvalidInput(
            f"format must be one of {', '.join(ExportFormat.values)}.",
            details={"fields": {"format": [f"Expected one of {', '.join(ExportFormat.values)}."]}},
        )
    if bom and format != ExportFormat.CSV:
        raise InvalidInput(
            "bom is only for CSV exports.",
            details={"fields": {"bom": ["Only CSV files carry a byte-order mark."]}},
        )
    names = _validated_fields(fields)
    stored_filters = _validated_filters(filters, project.key)
    now = timezone.now()
    with transaction.atomic():
        # The user's row lock serialises their concurrent requests, so the cap holds.
        User.objects.select_for_update().filter(pk=actor.pk).first()
        active = ExportJob.objects.filter(requester=actor, status__in=ACTIVE_STATUSES).count()
        limit = int(export_setting("EXPORT_MAX_ACTIVE_PER_USER"))
        if active >= limit:
            raise TooManyExports(
                f"You already have {active} exports in progress (the limit is {limit}); "
                "wait for one to finish.",
                details={"active": active, "limit": limit},
            )
        job = ExportJob.objects.create(
            requester=actor,
            project=project,
            format=format,
            filters=stored_filters,
            fields=names,
            bom=bom,
            as_of=now,
            queued_at=now,
        )
        record_audit(
            actor=actor,
            action="export.requested",
            project_id=project.pk,
            new={
                "export_id": job.pk,
                "format": format,
                "fields": names,
                "filters": stored_filters,
                "as_of": now,
            },
        )
        run_export_task.delay_on_commit(job.pk)
    return job


# --- downloads ----------------------------------------------------------------------------------


class DownloadLinkExpired(Forbidden):
    default_message = "This download link has expired; fetch the export again for a fresh link."


def _signer() -> signing.TimestampSigner:
    return signing.TimestampSigner(salt=_DOWNLOAD_SALT)


def _link_value(job: ExportJob) -> str:
    # Bound to the file's checksum: a link stops working once the file it pointed at is gone.
    return f"{job.pk}:{job.checksum_sha256}"


def download_path(job: ExportJob) -> str | None:
    """A signed, expiring path to the job's file (None until the file exists)."""
    if job.status != ExportStatus.SUCCEEDED:
        return None
    token = _signer().sign(_link_value(job))
    return f"{reverse('export-download', args=[job.pk])}?{urlencode({'sig': token})}"


def resolve_download(*, export_id: Any, signature: str) -> ExportJob:
    """The job a signed link points at, if the link is genuine, fresh and the file still there.

    The link is the credential (like an S3 presigned URL), so the requester's access is
    re-checked: a user removed from the project cannot use a link issued before.
    """
    try:
        value = _signer().unsign(signature, max_age=int(settings.SIGNED_URL_SECONDS))
    except signing.SignatureExpired:
        raise DownloadLinkExpired() from None
    except signing.BadSignature:
        raise NotFound("No such download.") from None
    job = (
        ExportJob.objects.select_related("project", "requester").filter(pk=str(export_id)).first()
        if str(export_id).isdigit()
        else None
    )
    if job is None or value != _link_value(job):
        raise NotFound("No such download.")
    if job.status == ExportStatus.EXPIRED:
        raise NotFound("This export's file has expired and was deleted; request a new export.")
    requester = job.requester
    if job.status != ExportStatus.SUCCEEDED or role_in(requester, job.project) is None:
        raise NotFound("No such download.")
    return job


def record_download(*, job: ExportJob) -> None:
    """Audit one download of a job's file, on behalf of the requester the link was issued to."""
    record_audit(
        actor=job.requester,
        action="export.downloaded",
        project_id=job.project_id,
        new={
            "export_id": job.pk,
            "file_key": job.file_key,
            "storage": job.storage,
            "format": job.format,
            "rows": job.rows_total,
        },
    )
