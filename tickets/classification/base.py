"""The classifier interface: what every classifier takes, what it answers, and the keyword fallback.

No Django here: a classifier gets a `TicketText` (the text and the project's allowed categories)
and answers a `Suggestion`, or None when it cannot (no model, network down, a reply that failed
validation); the service then asks the next classifier of the chain. Every answer names its
`source` ("gemini" | "local" | "keywords") and the model version that produced it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Protocol

from tickets.classification.keywords import classify_by_keywords

PRIORITIES: Final[tuple[str, ...]] = ("low", "medium", "high", "critical")
SOURCES: Final[tuple[str, ...]] = ("gemini", "local", "keywords")
KEYWORDS_VERSION: Final = "keywords-v1"


@dataclass(frozen=True)
class TicketText:
    """What a classifier sees: the ticket's words and the values it may answer."""

    project_id: int
    categories: tuple[str, ...]
    title: str
    description: str

    @property
    def text(self) -> str:
        """Title and description as one text (the same shape the local model is trained on)."""
        return ticket_text(self.title, self.description)

    def digest(self) -> str:
        """sha256 of the text and the allowed categories (a category change is another question)."""
        raw = self.text + "\x1d" + "\x1e".join(self.categories)
        return hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()


def ticket_text(title: str, description: str) -> str:
    """The text a ticket is classified and trained on."""
    return f"{title.strip()}\n\n{description.strip()}".strip()


@dataclass(frozen=True)
class FieldGuess:
    """One field's suggested value, with who suggested it and how sure it is."""

    value: str
    confidence: float
    source: str
    model_version: str


@dataclass(frozen=True)
class Suggestion:
    """A classifier's answer: a category and a priority (each may come from another source)."""

    category: FieldGuess
    priority: FieldGuess

    @property
    def source(self) -> str:
        return self.category.source

    @property
    def confidence(self) -> float:
        return self.category.confidence

    @property
    def model_version(self) -> str:
        return self.category.model_version

    def field(self, name: str) -> FieldGuess:
        """The guess for "category" or "priority"."""
        if name == "category":
            return self.category
        if name == "priority":
            return self.priority
        raise KeyError(name)

    def to_json(self) -> dict[str, Any]:
        """The flat shape stored in the cache and (extended) in `Ticket.classification`."""
        return {
            "category": self.category.value,
            "priority": self.priority.value,
            "confidence": round(self.category.confidence, 4),
            "source": self.category.source,
            "model_version": self.category.model_version,
            "priority_confidence": round(self.priority.confidence, 4),
            "priority_source": self.priority.source,
            "priority_model_version": self.priority.model_version,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Suggestion:
        """Inverse of `to_json` (raises KeyError/TypeError/ValueError on a foreign shape)."""
        return cls(
            category=FieldGuess(
                value=str(data["category"]),
                confidence=float(data["confidence"]),
                source=str(data["source"]),
                model_version=str(data["model_version"]),
            ),
            priority=FieldGuess(
                value=str(data["priority"]),
                confidence=float(data.get("priority_confidence", data["confidence"])),
                source=str(data.get("priority_source", data["source"])),
                model_version=str(data.get("priority_model_version", data["model_version"])),
            ),
        )


def is_valid(suggestion: Suggestion, categories: Sequence[str]) -> bool:
    """True when both values are allowed and both confidences are probabilities."""
    return (
        suggestion.category.value in categories
        and suggestion.priority.value in PRIORITIES
        and all(
            0.0 <= guess.confidence <= 1.0 and guess.source in SOURCES
            for guess in (suggestion.category, suggestion.priority)
        )
    )


class Classifier(Protocol):
    """One way to classify a ticket; `version` identifies the model/prompt (part of the cache key)."""

    source: str
    version: str
    cacheable: bool

    def classify(self, ticket: TicketText) -> Suggestion | None:
        """Answer, or None to let the next classifier of the chain answer."""
        ...


class KeywordClassifier:
    """The rule/keyword fallback: always answers, with a low (at most 0.6) confidence."""

    source = "keywords"
    version = KEYWORDS_VERSION
    cacheable = False  # microseconds to compute: a cache round trip would cost more

    def classify(self, ticket: TicketText) -> Suggestion:
        category, priority, confidence = classify_by_keywords(ticket.text, ticket.categories)
        return Suggestion(
            category=FieldGuess(category, confidence, self.source, self.version),
            priority=FieldGuess(priority, confidence, self.source, self.version),
        )

    def priority_guess(self, ticket: TicketText) -> FieldGuess:
        """Only the priority (for classifiers that learned the category but not the priority)."""
        return self.classify(ticket).priority
