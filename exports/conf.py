"""Export settings, read from the Django settings (config/settings.py reads the environment).

The names and their meaning are in config/settings.py ("Exports") and .env.example.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings


def export_setting(name: str) -> Any:
    """The value of an `EXPORT_*` setting."""
    return getattr(settings, name)
