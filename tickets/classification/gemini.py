"""Gemini through google-genai: structured output, bounded retries, every reply validated.

The request carries the versioned prompt (prompts/<version>.txt) as the system instruction and the
ticket as data only: one JSON object between `<ticket>` lines, with `<` and `>` escaped so the
ticket cannot close the delimiter. The response schema's enums are the project's categories and
the four priorities; the reply is still checked against them (a model may ignore a schema, and a
proxy or an attacker-controlled base URL may answer anything) and discarded when it does not fit.

Time is bounded twice: each HTTP attempt by `timeout_ms` (the SDK has no default timeout), the
whole call, retries and back-off included, by `budget_ms`. Retries (at most `max_retries`) happen
only on timeouts, 429 and 5xx; anything else, and a budget too small for another attempt, ends
the call with None so the next classifier answers.
"""

from __future__ import annotations

import json
import random
import string
import time
from functools import lru_cache
from pathlib import Path
from typing import Any, Final

import structlog

from tickets.classification.base import PRIORITIES, FieldGuess, Suggestion, TicketText

logger = structlog.get_logger(__name__)

PROMPTS_DIR: Final = Path(__file__).resolve().parent / "prompts"
DEFAULT_PROMPT_VERSION: Final = "classify_v1"
RETRY_STATUS_CODES: Final = frozenset({408, 429, 500, 502, 503, 504})
# Below this, another attempt cannot get an answer back in time: stop and fall back.
MIN_ATTEMPT_MS: Final = 250
BACKOFF_BASE_SECONDS: Final = 0.2
# The model sees at most this much of a description (bounds tokens, cost and latency).
MAX_DESCRIPTION_CHARS: Final = 8_000
MAX_TITLE_CHARS: Final = 300


class GeminiReplyError(ValueError):
    """The reply was not a JSON object with allowed values: it is discarded."""


@lru_cache(maxsize=8)
def load_prompt(version: str) -> string.Template:
    """The prompt template of a version (`$categories`, `$priorities` are filled per project)."""
    if not version.replace("_", "").isalnum():
        raise ValueError(f"bad prompt version {version!r}")
    return string.Template((PROMPTS_DIR / f"{version}.txt").read_text(encoding="utf-8"))


def system_instruction(version: str, categories: tuple[str, ...]) -> str:
    """The instructions: the prompt file with the allowed values (never any ticket text)."""
    return load_prompt(version).substitute(
        categories="\n".join(f"- {name}" for name in categories),
        priorities="\n".join(f"- {name}" for name in PRIORITIES),
    )


def ticket_payload(ticket: TicketText) -> str:
    """The ticket as delimited data: a JSON object whose `<`/`>` are escaped."""
    body = json.dumps(
        {
            "title": ticket.title[:MAX_TITLE_CHARS],
            "description": ticket.description[:MAX_DESCRIPTION_CHARS],
        },
        ensure_ascii=False,
    )
    body = body.replace("<", "\\u003c").replace(">", "\\u003e")
    return f"<ticket>\n{body}\n</ticket>"


def parse_reply(text: str | None, categories: tuple[str, ...]) -> tuple[str, str, float]:
    """(category, priority, confidence) from the model's text, or GeminiReplyError."""
    if not text:
        raise GeminiReplyError("empty reply")
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise GeminiReplyError(f"not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise GeminiReplyError("not a JSON object")
    category, priority, confidence = (
        data.get("category"),
        data.get("priority"),
        data.get("confidence"),
    )
    if not isinstance(category, str) or category not in categories:
        raise GeminiReplyError(f"category {str(category)[:60]!r} is not allowed")
    if not isinstance(priority, str) or priority not in PRIORITIES:
        raise GeminiReplyError(f"priority {str(priority)[:60]!r} is not allowed")
    if isinstance(confidence, bool) or not isinstance(confidence, int | float):
        raise GeminiReplyError("confidence is not a number")
    if not 0.0 <= float(confidence) <= 1.0:
        raise GeminiReplyError(f"confidence {confidence!r} is outside [0, 1]")
    return category, priority, float(confidence)


def _transient_errors() -> tuple[type[BaseException], ...]:
    """Transport timeouts of both HTTP stacks the SDK may use (httpx, and httpx2 when present)."""
    import httpx

    found: list[type[BaseException]] = [httpx.TimeoutException]
    try:
        import httpx2

        found.append(httpx2.TimeoutException)
    except ImportError:  # pragma: no cover - depends on the SDK's optional dependency
        pass
    return tuple(found)


@lru_cache(maxsize=4)
def _client(api_key: str, base_url: str | None, timeout_ms: int) -> Any:
    """One SDK client (and connection pool) per configuration and process."""
    from google import genai
    from google.genai import types

    return genai.Client(
        api_key=api_key,
        vertexai=False,
        http_options=types.HttpOptions(timeout=timeout_ms, base_url=base_url or None),
    )


class GeminiClassifier:
    """Classifies with a Gemini model; None on any failure (logged), never an exception."""

    source = "gemini"
    cacheable = True

    def __init__(
        self,
        *,
        api_key: str,
        model: str,
        timeout_ms: int,
        base_url: str | None = None,
        budget_ms: int | None = None,
        max_retries: int = 2,
        prompt_version: str = DEFAULT_PROMPT_VERSION,
    ) -> None:
        self.api_key = api_key
        self.model = model
        self.timeout_ms = int(timeout_ms)
        self.base_url = base_url or None
        self.budget_ms = int(budget_ms if budget_ms is not None else timeout_ms)
        self.max_retries = max(0, min(int(max_retries), 2))
        self.prompt_version = prompt_version
        self.version = f"{model}:{prompt_version}"

    def classify(self, ticket: TicketText) -> Suggestion | None:
        from google.genai import errors

        transient = _transient_errors()
        started = time.monotonic()
        deadline = started + self.budget_ms / 1000.0
        attempt = 0
        while True:
            remaining_ms = int((deadline - time.monotonic()) * 1000)
            if remaining_ms < MIN_ATTEMPT_MS:
                self._log_failure("budget_exhausted", attempt, started)
                return None
            attempt += 1
            try:
                text = self._generate(ticket, timeout_ms=min(self.timeout_ms, remaining_ms))
                category, priority, confidence = parse_reply(text, ticket.categories)
            except GeminiReplyError as exc:
                self._log_failure("reply_discarded", attempt, started, error=str(exc))
                return None
            except errors.APIError as exc:
                if exc.code in RETRY_STATUS_CODES and self._may_retry(attempt, deadline):
                    logger.info("gemini_retry", attempt=attempt, status=exc.code)
                    continue
                self._log_failure("api_error", attempt, started, status=exc.code)
                return None
            except transient as exc:
                if self._may_retry(attempt, deadline):
                    logger.info("gemini_retry", attempt=attempt, error=type(exc).__name__)
                    continue
                self._log_failure("timeout", attempt, started, error=type(exc).__name__)
                return None
            except Exception as exc:
                # Connection refused, DNS failure (no network), an SDK parsing error: no retry.
                self._log_failure("unavailable", attempt, started, error=repr(exc)[:300])
                return None
            guess = FieldGuess(category, confidence, self.source, self.version)
            return Suggestion(
                category=guess,
                priority=FieldGuess(priority, confidence, self.source, self.version),
            )

    def _generate(self, ticket: TicketText, *, timeout_ms: int) -> str | None:
        from google.genai import types

        categories = list(ticket.categories)
        schema = types.Schema(
            type=types.Type.OBJECT,
            properties={
                "category": types.Schema(type=types.Type.STRING, enum=categories),
                "priority": types.Schema(type=types.Type.STRING, enum=list(PRIORITIES)),
                "confidence": types.Schema(type=types.Type.NUMBER, minimum=0, maximum=1),
            },
            required=["category", "priority", "confidence"],
            property_ordering=["category", "priority", "confidence"],
        )
        config = types.GenerateContentConfig(
            system_instruction=system_instruction(self.prompt_version, ticket.categories),
            response_mime_type="application/json",
            response_schema=schema,
            temperature=0.0,
            candidate_count=1,
            max_output_tokens=256,
            # The per-attempt timeout: what is left of the budget, at most `timeout_ms`.
            http_options=types.HttpOptions(timeout=timeout_ms),
        )
        response = _client(self.api_key, self.base_url, self.timeout_ms).models.generate_content(
            model=self.model,
            contents=[types.Content(role="user", parts=[types.Part(text=ticket_payload(ticket))])],
            config=config,
        )
        text = response.text
        return text if isinstance(text, str) else None

    def _may_retry(self, attempt: int, deadline: float) -> bool:
        """Sleep a jittered back-off and say yes when a retry is allowed and fits the budget."""
        if attempt > self.max_retries:
            return False
        pause = random.uniform(0, BACKOFF_BASE_SECONDS * 2 ** (attempt - 1))
        if (deadline - time.monotonic() - pause) * 1000 < MIN_ATTEMPT_MS:
            return False
        time.sleep(pause)
        return True

    def _log_failure(self, reason: str, attempts: int, started: float, **extra: Any) -> None:
        logger.warning(
            "gemini_fallback",
            reason=reason,
            attempts=attempts,
            model=self.model,
            elapsed_ms=round((time.monotonic() - started) * 1000),
            **extra,
        )
