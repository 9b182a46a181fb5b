"""The domain errors of the ticket write services (mapped to 409 by config/api.py)."""

from __future__ import annotations

from config.api import DomainError


class InvalidTransition(DomainError):
    code = "invalid_transition"
    default_message = "The workflow does not allow this status change."


class StalePosition(DomainError):
    code = "stale_position"
    default_message = "The neighbours you gave are no longer next to each other; reload and retry."


class WipLimitExceeded(DomainError):
    code = "wip_limit_exceeded"
    default_message = "The target column is at its WIP limit."
