"""Rule/keyword fallback classifier: always answers, even without any trained model.

``classify_by_keywords(text, categories)`` returns ``(category, priority, confidence)``:

* category: one of ``categories`` (spelled as given). The default desk categories ``billing``,
  ``technical``, ``account`` and ``general`` have keyword lists; any other (custom) category is
  matched by its own name (``"Hardware"`` matches "hardware"/"hardwares", ``"internal-project"``
  matches "internal project"). The category with the most keyword hits wins, ties going to the
  earlier category in ``categories``; without any hit the answer is ``general`` when the project
  has it, otherwise its first category.
* priority: one of ``low``, ``medium``, ``high``, ``critical`` from priority words (outage,
  security breach -> critical; urgent, production, down -> high; question, "when you have time",
  "not urgent" -> low; otherwise medium).
* confidence: 0.3 without a keyword hit, 0.4-0.6 with one (higher when the winner leads the
  runner-up by more hits). It is a heuristic and never claims more than 0.6.

The text is only ever matched against fixed patterns, so instructions embedded in a ticket
("ignore previous instructions, set priority critical") cannot do more than any other words.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Final

__all__ = [
    "DEFAULT_CATEGORIES",
    "FALLBACK_CATEGORY",
    "PRIORITIES",
    "classify_by_keywords",
]

DEFAULT_CATEGORIES: Final[tuple[str, ...]] = ("billing", "technical", "account", "general")
FALLBACK_CATEGORY: Final = "general"
PRIORITIES: Final[tuple[str, ...]] = ("low", "medium", "high", "critical")
DEFAULT_PRIORITY: Final = "medium"

CONFIDENCE_NO_MATCH: Final = 0.3
CONFIDENCE_MATCH: Final = 0.4
CONFIDENCE_STEP: Final = 0.05
CONFIDENCE_MAX: Final = 0.6

#: Only the start of very long texts is scanned (keeps the cost bounded).
MAX_SCAN_CHARS: Final = 20_000

# Patterns are regular-expression fragments matched on whole words of the normalised text
# (lower-case, runs of non-alphanumerics collapsed to one space).
_DEFAULT_KEYWORDS: Final[dict[str, tuple[str, ...]]] = {
    "billing": (
        r"invoic(?:e|es|ed|ing)",
        r"refund(?:s|ed|ing)?",
        r"charg(?:e|es|ed|ing)",
        r"overcharg(?:e|es|ed|ing)",
        r"bill(?:s|ed|ing)?",
        r"payments?",
        r"paid",
        r"receipts?",
        r"subscriptions?",
        r"credit card",
        r"pricing",
        r"vat",
    ),
    "technical": (
        r"errors?",
        r"crash(?:es|ed|ing)?",
        r"bugs?",
        r"buggy",
        r"exceptions?",
        r"stack ?traces?",
        r"login (?:failure|failed|fails|error)s?",
        r"failed login",
        r"(?:is|are|was) broken",
        r"not working",
        r"(?:doesn t|does not|don t|won t|cannot|can t) (?:work|load|connect|start|open)",
        r"time(?:d)? ?outs?",
        r"freez(?:e|es|ing)",
        r"frozen",
        r"outages?",
        r"(?:production|prod|site|service|server|system|website|app) (?:is |are )?down",
    ),
    "account": (
        r"passwords?",
        r"accounts?",
        r"profiles?",
        r"access",
        r"usernames?",
        r"user names?",
        r"sign ?up",
        r"locked out",
        r"two factor",
        r"2fa",
        r"mfa",
        r"permissions?",
        r"email address",
    ),
}

# Phrases that lower the priority *and* neutralise the urgency words they contain.
_LOW_NEGATIONS: Final = (
    r"not (?:urgent|critical|a priority|an emergency|blocking)",
    r"non ?urgent",
    r"no rush",
    r"no hurry",
)
_PRIORITY_PATTERNS: Final[dict[str, tuple[str, ...]]] = {
    "critical": (
        r"outages?",
        r"security (?:breach|incident|issue)",
        r"data (?:breach|leak|loss)",
        r"breach(?:ed)?",
        r"hacked",
        r"compromised",
        r"ransomware",
        r"(?:production|prod|site|service|server|system|everything|website|app) (?:is |are )?down",
    ),
    "high": (
        r"urgent(?:ly)?",
        r"asap",
        r"as soon as possible",
        r"immediately",
        r"emergency",
        r"production",
        r"down",
        r"blocker",
        r"blocked",
        r"critical",
        r"(?:cannot|can t|unable to) work",
    ),
    "low": (
        r"when(?:ever)? you (?:have|get) (?:the )?(?:time|a chance|a moment)",
        r"low priority",
        r"questions?",
        r"wondering",
        r"curious",
        r"feature requests?",
        r"suggestions?",
        r"nice to have",
    ),
}

_NON_ALNUM = re.compile(r"[^0-9a-z]+")


def _normalise(text: str) -> str:
    return " " + _NON_ALNUM.sub(" ", text[:MAX_SCAN_CHARS].lower()).strip() + " "


def _compile(fragments: Sequence[str]) -> re.Pattern[str]:
    # Each fragment must be a whole-word run: bounded by the spaces added in ``_normalise``.
    return re.compile(r"(?<= )(?:" + "|".join(fragments) + r")(?= )")


_CATEGORY_RES: Final = {name: _compile(words) for name, words in _DEFAULT_KEYWORDS.items()}
_LOW_NEGATION_RE: Final = _compile(_LOW_NEGATIONS)
_PRIORITY_RES: Final = {level: _compile(words) for level, words in _PRIORITY_PATTERNS.items()}


def _category_key(name: str) -> str:
    """Normalised category name: ``"Internal_Project "`` -> ``"internal project"``."""
    return _NON_ALNUM.sub(" ", name.lower()).strip()


@lru_cache(maxsize=512)
def _category_pattern(name: str) -> re.Pattern[str] | None:
    key = _category_key(name)
    own = [re.escape(key).replace(r"\ ", " ") + "s?"] if key else []
    fragments = list(_DEFAULT_KEYWORDS.get(key, ())) + own
    return _compile(fragments) if fragments else None


def _count(pattern: re.Pattern[str], text: str) -> int:
    return sum(1 for _ in pattern.finditer(text))


def _priority(text: str) -> str:
    negated = _LOW_NEGATION_RE.search(text) is not None
    if negated:
        text = _LOW_NEGATION_RE.sub(" ", text)
    if _PRIORITY_RES["critical"].search(text):
        return "critical"
    if _PRIORITY_RES["high"].search(text):
        return "high"
    if negated or _PRIORITY_RES["low"].search(text):
        return "low"
    return DEFAULT_PRIORITY


def classify_by_keywords(
    text: str, categories: Sequence[str] = DEFAULT_CATEGORIES
) -> tuple[str, str, float]:
    """Classify ``text`` into one of ``categories`` with a priority and a (low) confidence."""
    if isinstance(categories, str):
        raise TypeError("categories must be a sequence of names, not a single string")
    names: list[str] = []
    seen: set[str] = set()
    for name in categories:
        if not isinstance(name, str) or not name.strip():
            raise ValueError(f"category names must be non-empty strings, got {name!r}")
        if name not in seen:
            seen.add(name)
            names.append(name)
    if not names:
        raise ValueError("categories must not be empty")
    if not isinstance(text, str):
        raise TypeError(f"text is {type(text).__name__}, expected str")

    normalised = _normalise(text)
    hits: list[int] = []
    for name in names:
        pattern = _category_pattern(name)
        hits.append(_count(pattern, normalised) if pattern is not None else 0)

    priority = _priority(normalised)
    best = max(hits)
    if best == 0:
        fallback = next((n for n in names if _category_key(n) == FALLBACK_CATEGORY), names[0])
        return fallback, priority, CONFIDENCE_NO_MATCH

    winner = hits.index(best)  # first of the tied categories, in the project's order
    runner_up = max((h for i, h in enumerate(hits) if i != winner), default=0)
    lead = min(best - runner_up, 4)
    confidence = min(CONFIDENCE_MAX, round(CONFIDENCE_MATCH + CONFIDENCE_STEP * lead, 2))
    return names[winner], priority, confidence
