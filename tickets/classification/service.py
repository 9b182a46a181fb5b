"""Triage: classify a ticket's text, store and apply the suggestion, record agents' feedback.

* `classify_ticket_text` runs the chain (`classifiers_for`): Gemini when `GEMINI_API_KEY` is set,
  the project's local model when one is trained, the keyword fallback that always answers. Each
  answer is validated against the project's values. Gemini's answers are cached in Redis by
  (project, sha256 of text and categories, model version); the local model and the keywords
  answer faster than a Redis round trip, so they are not.
* `apply_classification` is the system write path for a new ticket's suggestion (no human actor):
  lock, decide, save, audit row, board event, and on commit a push on the creator's `/ws/me/`.
* `record_classification_feedback` is called by `update_ticket` when an agent sets a suggested
  field: accepted or overridden, for per-class precision (`manage.py classifier_report`).
"""

from __future__ import annotations

import json
from typing import Any, Final

import structlog
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from notifications.realtime import push_to_user
from notifications.services import record_board_event
from tickets.audit import record_audit
from tickets.classification.base import (
    Classifier,
    KeywordClassifier,
    Suggestion,
    TicketText,
    is_valid,
)
from tickets.classification.gemini import GeminiClassifier
from tickets.classification.local import LocalClassifier
from tickets.models import AuditLog, ClassificationFeedback, Project, Ticket
from tickets.selectors import locked_tickets
from tickets.services.events import ticket_event_data

logger = structlog.get_logger(__name__)

FIELDS: Final = ("category", "priority")
CACHE_PREFIX: Final = "triage:v1"


def _cache_seconds() -> int:
    return int(getattr(settings, "CLASSIFICATION_CACHE_SECONDS", 7 * 24 * 3600))


_logged_no_key = False


def classifiers_for(project: Project, *, gemini_budget_ms: int | None = None) -> list[Classifier]:
    """The chain for a project, in the order they are asked; the last one always answers."""
    global _logged_no_key
    chain: list[Classifier] = []
    if not settings.GEMINI_API_KEY and not _logged_no_key:
        _logged_no_key = True  # once per process: it is a configuration, not an incident
        logger.info("gemini_disabled", reason="GEMINI_API_KEY is not set")
    if settings.GEMINI_API_KEY:
        chain.append(
            GeminiClassifier(
                api_key=settings.GEMINI_API_KEY,
                model=settings.GEMINI_MODEL,
                timeout_ms=settings.GEMINI_TIMEOUT_MS,
                base_url=settings.GEMINI_BASE_URL or None,
                budget_ms=gemini_budget_ms,
            )
        )
    local = LocalClassifier.for_project(project.pk)
    if local is not None:
        chain.append(local)
    chain.append(KeywordClassifier())
    return chain


def cache_key(ticket: TicketText, version: str) -> str:
    """Redis key of a cached answer: project, text hash and model version."""
    return f"{CACHE_PREFIX}:{ticket.project_id}:{ticket.digest()}:{version}"


def _cached(ticket: TicketText, version: str) -> Suggestion | None:
    from config.redis import get_redis

    try:
        raw = get_redis().get(cache_key(ticket, version))
        if raw is None:
            return None
        suggestion = Suggestion.from_json(json.loads(raw))
    except Exception as exc:  # a cache that fails is a cache miss, never an error
        logger.warning("classification_cache_unavailable", error=repr(exc)[:200])
        return None
    return suggestion if is_valid(suggestion, ticket.categories) else None


def _remember(ticket: TicketText, version: str, suggestion: Suggestion) -> None:
    from config.redis import get_redis

    try:
        get_redis().set(
            cache_key(ticket, version), json.dumps(suggestion.to_json()), ex=_cache_seconds()
        )
    except Exception as exc:
        logger.warning("classification_cache_unavailable", error=repr(exc)[:200])


def classify_ticket_text(
    *, project: Project, title: str, description: str, gemini_budget_ms: int | None = None
) -> Suggestion:
    """Suggest a category and a priority for a ticket text (never raises for a classifier's fault)."""
    ticket = TicketText(
        project_id=project.pk,
        categories=tuple(project.categories),
        title=title or "",
        description=description or "",
    )
    for classifier in classifiers_for(project, gemini_budget_ms=gemini_budget_ms):
        if classifier.cacheable:
            hit = _cached(ticket, classifier.version)
            if hit is not None:
                return hit
        try:
            suggestion = classifier.classify(ticket)
        except Exception:
            logger.exception("classifier_failed", source=classifier.source)
            continue
        if suggestion is None:
            continue
        if not is_valid(suggestion, ticket.categories):
            logger.warning(
                "classification_discarded",
                source=classifier.source,
                category=suggestion.category.value[:60],
                priority=suggestion.priority.value[:60],
            )
            continue
        if classifier.cacheable:
            _remember(ticket, classifier.version, suggestion)
        return suggestion
    # Unreachable while the keyword fallback closes the chain; kept as a guard.
    return KeywordClassifier().classify(ticket)


# --- the new ticket's suggestion ----------------------------------------------------------------


def _touched_by_people(ticket_id: int) -> set[str]:
    """Category/priority fields a person changed after creation (the suggestion must not win)."""
    touched: set[str] = set()
    rows = AuditLog.objects.filter(ticket_id=ticket_id, action="ticket.updated").values_list(
        "payload", flat=True
    )
    for payload in rows:
        new = (payload or {}).get("new") or {}
        touched |= {name for name in FIELDS if name in new}
    return touched


def apply_classification(
    *, ticket_id: int, suggestion: Suggestion, apply_category: bool, apply_priority: bool
) -> Ticket | None:
    """Store a new ticket's suggestion and apply the fields that may be applied (system actor).

    A field is applied when the creator left it at its default (`apply_*`), nobody changed it
    since, and its confidence reaches the project's threshold. Idempotent: a ticket that already
    has a classification is left alone (returns None), as is an archived or deleted one.
    """
    now = timezone.now()
    with transaction.atomic():
        found = locked_tickets([ticket_id], "project", "status", "assignee")
        ticket = found[0] if found else None
        if ticket is None or ticket.classification is not None or ticket.is_archived:
            return None
        project = ticket.project
        if not is_valid(suggestion, tuple(project.categories)):
            # The categories changed between classifying and applying: keep nothing stale.
            return None
        allowed = {"category": apply_category, "priority": apply_priority}
        touched = _touched_by_people(ticket.pk)
        applied: list[str] = []
        old: dict[str, Any] = {}
        changed: list[str] = []
        for name in FIELDS:
            guess = suggestion.field(name)
            if not allowed[name] or name in touched:
                continue
            if guess.confidence < project.classification_threshold:
                continue
            applied.append(name)
            if getattr(ticket, name) != guess.value:
                old[name] = getattr(ticket, name)
                setattr(ticket, name, guess.value)
                changed.append(name)
        ticket.classification = {
            **suggestion.to_json(),
            "applied": applied,
            "explicit": [name for name in FIELDS if not allowed[name]],
            "threshold": project.classification_threshold,
            "at": now.isoformat().replace("+00:00", "Z"),
        }
        ticket.save(update_fields=["classification", *changed, "updated_at"])
        summary = {
            "category": suggestion.category.value,
            "priority": suggestion.priority.value,
            "confidence": ticket.classification["confidence"],
            "source": suggestion.source,
            "model_version": suggestion.model_version,
            "applied": applied,
        }
        record_audit(
            actor=None,
            action="ticket.classified",
            project_id=project.pk,
            ticket_id=ticket.pk,
            old=old,
            new={**summary, **{name: getattr(ticket, name) for name in changed}},
        )
        if "priority" in changed:
            from sla import services as sla_services

            sla_services.retarget_ticket_sla(ticket=ticket, now=now)

        record_board_event(
            actor=None,
            project_id=project.pk,
            type="ticket.classified",
            data={**ticket_event_data(ticket), "classification": summary},
            ticket_id=ticket.pk,
        )
        creator_id = ticket.created_by_id
        if creator_id is not None:
            message = {
                "type": "classification",
                "ticket_id": ticket.pk,
                "key": ticket.key,
                **summary,
            }
            transaction.on_commit(lambda: push_to_user(creator_id, message))
    return ticket


def classify_new_ticket(
    *, ticket_id: int, apply_category: bool, apply_priority: bool
) -> Ticket | None:
    """Classify a ticket outside any transaction (the network call holds no lock), then apply."""
    ticket = Ticket.objects.select_related("project").filter(pk=ticket_id).first()
    if ticket is None or ticket.classification is not None or ticket.is_archived:
        return None
    # In the background a slow Gemini may be retried: three attempts' worth of time.
    suggestion = classify_ticket_text(
        project=ticket.project,
        title=ticket.title,
        description=ticket.description,
        gemini_budget_ms=3 * settings.GEMINI_TIMEOUT_MS,
    )
    applied = apply_classification(
        ticket_id=ticket_id,
        suggestion=suggestion,
        apply_category=apply_category,
        apply_priority=apply_priority,
    )
    logger.info(
        "ticket_classified",
        ticket_id=ticket_id,
        source=suggestion.source,
        category=suggestion.category.value,
        priority=suggestion.priority.value,
        confidence=round(suggestion.confidence, 4),
        applied=(applied.classification or {}).get("applied") if applied else None,
    )
    return applied


# --- feedback -----------------------------------------------------------------------------------


def record_classification_feedback(
    *, ticket: Ticket, changes: dict[str, Any], actor: Any
) -> list[ClassificationFeedback]:
    """An agent set a suggested field (same value: accepted; another: overridden); one row each.

    Called inside `update_ticket`'s transaction, after its validation, with the ticket locked.
    """
    classification = ticket.classification or {}
    rows: list[ClassificationFeedback] = []
    for name in FIELDS:
        suggested = classification.get(name)
        if name not in changes or not isinstance(suggested, str):
            continue
        prefix = "" if name == "category" else "priority_"
        rows.append(
            ClassificationFeedback(
                ticket=ticket,
                field=name,
                suggested=suggested,
                final=str(changes[name]),
                source=str(classification.get(f"{prefix}source") or classification.get("source")),
                model_version=str(
                    classification.get(f"{prefix}model_version")
                    or classification.get("model_version")
                    or ""
                )[:80],
                actor=actor if getattr(actor, "is_authenticated", False) else None,
            )
        )
    return ClassificationFeedback.objects.bulk_create(rows) if rows else []
