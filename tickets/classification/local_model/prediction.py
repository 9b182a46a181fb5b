"""Classifying tickets with a trained model: one (``predict``), many, and ``evaluate``."""

from __future__ import annotations

from collections.abc import Sequence
from time import perf_counter
from typing import Any

import numpy as np
from sklearn.metrics import accuracy_score, f1_score, precision_recall_fscore_support

from tickets.classification.local_model.model import Prediction, TrainedModel, _clip


def _to_prediction(labels: Sequence[str], proba: np.ndarray) -> Prediction:
    best = int(np.argmax(proba))
    scores = {label: float(p) for label, p in zip(labels, proba, strict=True)}
    return Prediction(label=labels[best], confidence=float(proba[best]), scores=scores)


def predict(model: TrainedModel, text: str) -> Prediction:
    """Classify one ticket text; ``confidence`` is the calibrated probability of ``label``."""
    if not isinstance(text, str):
        raise TypeError(f"text is {type(text).__name__}, expected str")
    text = _clip(text)
    scorer = model.scorer()
    if scorer is not None:
        proba = scorer.predict_proba(text)
    else:
        proba = model.pipeline.predict_proba([text])[0]
    return _to_prediction(model.labels, proba)


def predict_many(model: TrainedModel, texts: Sequence[str]) -> list[Prediction]:
    """Classify many texts at once (vectorised through the pipeline)."""
    if not texts:
        return []
    clipped: list[str] = []
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise TypeError(f"texts[{i}] is {type(text).__name__}, expected str")
        clipped.append(_clip(text))
    probas = model.pipeline.predict_proba(clipped)
    return [_to_prediction(model.labels, row) for row in probas]


def evaluate(model: TrainedModel, texts: Sequence[str], labels: Sequence[str]) -> dict[str, Any]:
    """Accuracy, macro-F1, per-class precision/recall/F1/support and batch ms per ticket.

    Macro-F1 averages over the categories present in ``labels``; ``per_class`` also lists the
    model's categories absent from them (support 0).
    """
    if len(texts) != len(labels):
        raise ValueError(f"got {len(texts)} texts but {len(labels)} labels")
    if not texts:
        raise ValueError("evaluate needs at least one labelled ticket")
    started = perf_counter()
    predicted = [p.label for p in predict_many(model, texts)]
    elapsed = perf_counter() - started
    truth = list(labels)
    names = sorted(set(model.labels) | set(truth))
    precision, recall, f1, support = precision_recall_fscore_support(
        truth, predicted, labels=names, zero_division=0
    )
    per_class = {
        name: {
            "precision": round(float(precision[i]), 6),
            "recall": round(float(recall[i]), 6),
            "f1": round(float(f1[i]), 6),
            "support": int(support[i]),
        }
        for i, name in enumerate(names)
    }
    present = [name for name in names if per_class[name]["support"] > 0]
    return {
        "n_samples": len(truth),
        "accuracy": round(float(accuracy_score(truth, predicted)), 6),
        "macro_f1": round(
            float(f1_score(truth, predicted, labels=present, average="macro", zero_division=0)),
            6,
        ),
        "per_class": per_class,
        "ms_per_ticket": round(elapsed * 1000.0 / len(truth), 4),
    }
