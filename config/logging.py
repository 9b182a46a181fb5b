"""One formatter for every log line: structlog's, Django's, Celery's, gunicorn's and uvicorn's.

Every stdlib record (whoever logs it) goes to the root logger's one handler, whose formatter is
structlog's `ProcessorFormatter`: the same processors for both worlds, so a line is one JSON object
when `LOG_JSON` is on (the default without DEBUG) and a readable key=value line otherwise, with the
contextvars (the request id, inside a request or a task it caused) merged in. `LOG_LEVEL` is the
root level. gunicorn's master reads the same dict through `logconfig_dict` (gunicorn.conf.py),
uvicorn's and Celery's loggers are re-pointed here when Django sets logging up (config/celery.py
keeps Celery from installing its own handlers).
"""

from __future__ import annotations

import logging
from typing import Any

import structlog

# Loggers that install handlers of their own (or do not propagate) unless told otherwise.
SERVER_LOGGERS = (
    "gunicorn.error",
    "gunicorn.access",
    "uvicorn",
    "uvicorn.error",
    "uvicorn.access",
    "celery",
    "celery.task",
    "celery.redirected",
)


def _shared_processors() -> list[structlog.typing.Processor]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]


def _renderer(*, json: bool) -> structlog.typing.Processor:
    if json:
        return structlog.processors.JSONRenderer()
    return structlog.dev.ConsoleRenderer(colors=False)


def logging_config(*, level: str, json: bool) -> dict[str, Any]:
    """The `LOGGING` dict: one handler on the root, one structured formatter, every logger into it."""
    level = level.upper()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "structured": {
                "()": structlog.stdlib.ProcessorFormatter,
                "foreign_pre_chain": _shared_processors(),
                "processors": [
                    structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    structlog.processors.format_exc_info,
                    _renderer(json=json),
                ],
            }
        },
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": "structured",
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            # No handlers of their own: each propagates to the root's one handler.
            **{name: {"handlers": [], "propagate": True} for name in SERVER_LOGGERS},
            # billiard (Celery's pool) makes this logger non-propagating: give it the handler.
            "multiprocessing": {"handlers": ["console"], "propagate": False},
            "django.request": {"level": "ERROR"},
            "django.server": {"level": "WARNING"},
        },
    }


def configure_structlog(*, level: str) -> None:
    """structlog hands its events to stdlib logging; the root's formatter renders them.

    Python's warnings become log records too (logger `py.warnings`), not bare lines on stderr."""
    logging.captureWarnings(True)
    structlog.configure(
        processors=[
            *_shared_processors(),
            structlog.processors.StackInfoRenderer(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping()[level.upper()]
        ),
        cache_logger_on_first_use=True,
    )
