"""The request id travels with the tasks a request enqueues, into their log lines and audit rows.

`before_task_publish` copies the publisher's request id (a request, or a task that enqueues
another) into the message headers; `task_prerun` binds it in the worker, for structlog's
contextvars (every log line of the task, Celery's own included) and for `config.context`
(audit rows); `task_postrun` clears it. Also: Celery's logging is Django's (`setup_logging`).
"""

from __future__ import annotations

import logging.config
from typing import Any

import structlog
from celery import signals

from config.context import RequestFacts, current_request

HEADER = "request_id"


def publisher_request_id() -> str:
    """The request id of whatever is running here: a request, or a task, or none ("")."""
    bound = structlog.contextvars.get_contextvars().get("request_id")
    return str(bound) if bound else current_request.get().request_id


def _on_publish(headers: dict[str, Any] | None = None, **_: Any) -> None:
    request_id = publisher_request_id()
    if headers is not None and request_id and HEADER not in headers:
        headers[HEADER] = request_id


def _on_prerun(task: Any = None, task_id: str = "", **_: Any) -> None:
    request_id = getattr(task.request, HEADER, None) if task is not None else None
    structlog.contextvars.clear_contextvars()
    context: dict[str, Any] = {"task": getattr(task, "name", ""), "task_id": task_id}
    if request_id:
        context[HEADER] = str(request_id)
        current_request.set(RequestFacts(request_id=str(request_id)))
    structlog.contextvars.bind_contextvars(**context)


def _on_postrun(**_: Any) -> None:
    structlog.contextvars.clear_contextvars()
    current_request.set(RequestFacts())


def _setup_logging(**_: Any) -> None:
    """Celery calls this instead of installing its own handlers: Django's LOGGING applies."""
    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)


def connect() -> None:
    signals.before_task_publish.connect(_on_publish, weak=False, dispatch_uid="helpline-rid-pub")
    signals.task_prerun.connect(_on_prerun, weak=False, dispatch_uid="helpline-rid-pre")
    signals.task_postrun.connect(_on_postrun, weak=False, dispatch_uid="helpline-rid-post")
    signals.setup_logging.connect(_setup_logging, weak=False, dispatch_uid="helpline-logging")
