"""Export writes: request a job, run it, keep the queue and the stored files healthy.

Every state change of an `ExportJob` goes through a function here (keyword-only, explicit actor
where a person acts).
"""

from exports.services.jobs import (
    TooManyExports,
    download_path,
    record_download,
    request_export,
    resolve_download,
)
from exports.services.maintenance import expire_exports, recover_stalled_exports
from exports.services.runner import run_export

__all__ = [
    "TooManyExports",
    "download_path",
    "expire_exports",
    "record_download",
    "recover_stalled_exports",
    "request_export",
    "resolve_download",
    "run_export",
]
