"""Optional error reporting to Sentry, switched on by `SENTRY_DSN` (config/settings.py)."""

from __future__ import annotations

import logging


def init_sentry(*, dsn: str, environment: str, release: str, traces_sample_rate: float) -> bool:
    """Start the Sentry SDK with the Django and Celery integrations; False when it is not installed."""
    try:
        import sentry_sdk
        from sentry_sdk.integrations.celery import CeleryIntegration
        from sentry_sdk.integrations.django import DjangoIntegration
    except ImportError:
        logging.getLogger("helpline.sentry").warning("SENTRY_DSN is set but sentry-sdk is missing")
        return False
    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        release=f"helpline@{release}",
        traces_sample_rate=traces_sample_rate,
        send_default_pii=False,
        integrations=[DjangoIntegration(), CeleryIntegration()],
    )
    return True
