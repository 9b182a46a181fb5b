"""The classifier's shared types: a trained model, a prediction, the errors, the text limit.

No dependency on the rest of the package but the fast scorer a ``TrainedModel`` builds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

from sklearn.pipeline import Pipeline

from tickets.classification.local_model.scoring import _FastScorer

#: Texts are cut to this many characters before training and prediction: the longest ticket of
#: the reference corpus has ~7,000 characters, and an unbounded text would make the character
#: n-gram analyser (and so the request) arbitrarily slow.
MAX_TEXT_CHARS: Final = 10_000


class NotEnoughData(ValueError):
    """The training data cannot produce a model (too few samples, classes or usable words)."""


class ModelFormatError(ValueError):
    """A serialized model blob is not one this code can load."""


@dataclass(frozen=True, slots=True)
class Prediction:
    label: str
    confidence: float
    scores: dict[str, float]


@dataclass(eq=False)
class TrainedModel:
    """A fitted classifier plus what is needed to identify and audit it."""

    pipeline: Pipeline
    labels: list[str]
    version: str
    metrics: dict[str, Any]
    trained_at: str
    params: dict[str, Any] = field(default_factory=dict)
    _scorer: _FastScorer | None = field(default=None, init=False, repr=False)
    _scorer_built: bool = field(default=False, init=False, repr=False)

    def scorer(self) -> _FastScorer | None:
        """The single-ticket fast path, built on first use (None: use the pipeline)."""
        if not self._scorer_built:
            self._scorer = _FastScorer.from_pipeline(self.pipeline, self.labels)
            self._scorer_built = True
        return self._scorer


def _clip(text: str) -> str:
    return text[:MAX_TEXT_CHARS]
