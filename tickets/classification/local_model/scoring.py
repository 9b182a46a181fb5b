"""The single-ticket fast path: the fitted pipeline's features and probabilities, unrolled.

``_FastScorer`` recomputes ``pipeline.predict_proba`` for one text from the fitted vectorizers'
vocabularies, the SVM weights and the calibration (the stacked layer or the Platt sigmoids),
without scikit-learn's per-call input validation.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.special import expit, softmax
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion, Pipeline

from tickets.classification.local_model.stacking import StackedSVM


@dataclass(frozen=True, slots=True)
class _Block:
    """One TF-IDF vectorizer of the feature union, unrolled for single-text scoring."""

    analyzer: Callable[[str], list[str]]
    vocabulary: dict[str, int]
    offset: int
    weight: float
    binary: bool
    sublinear: bool
    idf: np.ndarray | None
    norm: str | None

    def features(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        vocabulary = self.vocabulary
        counts: dict[int, int] = {}
        for token in self.analyzer(text):
            index = vocabulary.get(token)
            if index is not None:
                counts[index] = counts.get(index, 0) + 1
        n = len(counts)
        indices = np.fromiter(counts.keys(), dtype=np.intp, count=n)
        values = np.fromiter(counts.values(), dtype=np.float64, count=n)
        if n == 0:
            return indices, values
        if self.binary:
            values.fill(1.0)
        if self.sublinear:
            values = np.log(values) + 1.0
        if self.idf is not None:
            values *= self.idf[indices]
        if self.norm == "l2":
            length = math.sqrt(float(np.dot(values, values)))
        elif self.norm == "l1":
            length = float(np.abs(values).sum())
        else:
            length = 0.0
        if length > 0.0:
            values /= length
        if self.weight != 1.0:
            values *= self.weight
        return indices + self.offset, values


@dataclass(frozen=True, slots=True)
class _Member:
    """One (linear SVM, per-class sigmoid calibrators) pair of a ``CalibratedClassifierCV``."""

    coef_t: np.ndarray  # (n_features, n_outputs), rows gathered per text
    intercept: np.ndarray  # (n_outputs,)
    slope: np.ndarray  # Platt a per output
    offset: np.ndarray  # Platt b per output


@dataclass(frozen=True, slots=True)
class _Stack:
    """A ``StackedSVM`` unrolled: the SVM's weights and the logistic layer's."""

    coef_t: np.ndarray  # (n_features, n_svm_outputs), rows gathered per text
    intercept: np.ndarray  # (n_svm_outputs,)
    meta_coef_t: np.ndarray  # (n_svm_outputs, n_meta_outputs)
    meta_intercept: np.ndarray  # (n_meta_outputs,)


def _sigmoid_members(classifier: Any, classes: list[str], n_features: int) -> list[_Member] | None:
    if not isinstance(classifier, CalibratedClassifierCV) or classifier.method != "sigmoid":
        return None
    members: list[_Member] = []
    for calibrated in classifier.calibrated_classifiers_:
        svm = calibrated.estimator
        if [str(c) for c in svm.classes_] != classes:
            return None
        coef = np.asarray(svm.coef_, dtype=np.float64)
        if coef.shape[1] != n_features:
            return None
        calibrators = calibrated.calibrators
        if len(calibrators) != coef.shape[0]:
            return None
        members.append(
            _Member(
                coef_t=np.ascontiguousarray(coef.T),
                intercept=np.asarray(svm.intercept_, dtype=np.float64).reshape(-1),
                slope=np.array([float(c.a_) for c in calibrators]),
                offset=np.array([float(c.b_) for c in calibrators]),
            )
        )
    return members or None


def _stack(classifier: Any, classes: list[str], n_features: int) -> _Stack | None:
    if not isinstance(classifier, StackedSVM):
        return None
    svm, meta = classifier.svm_, classifier.meta_
    if [str(c) for c in meta.classes_] != classes:
        return None
    coef = np.asarray(svm.coef_, dtype=np.float64)
    meta_coef = np.asarray(meta.coef_, dtype=np.float64)
    if coef.shape[1] != n_features or meta_coef.shape[1] != coef.shape[0]:
        return None
    if meta_coef.shape[0] != (1 if len(classes) == 2 else len(classes)):
        return None
    return _Stack(
        coef_t=np.ascontiguousarray(coef.T),
        intercept=np.asarray(svm.intercept_, dtype=np.float64).reshape(-1),
        meta_coef_t=np.ascontiguousarray(meta_coef.T),
        meta_intercept=np.asarray(meta.intercept_, dtype=np.float64).reshape(-1),
    )


class _FastScorer:
    """Re-implements ``pipeline.predict_proba`` for one text without sklearn's per-call overhead.

    Built only for the exact pipeline layouts ``train`` produces (a ``StackedSVM`` or a sigmoid
    ``CalibratedClassifierCV`` after the feature union); ``from_pipeline`` returns None for
    anything else and callers fall back to the pipeline. Tests check both paths agree.
    """

    def __init__(
        self,
        blocks: list[_Block],
        n_classes: int,
        *,
        members: list[_Member] | None = None,
        stack: _Stack | None = None,
    ) -> None:
        if (members is None) == (stack is None):
            raise ValueError("a fast scorer needs either calibrated members or a stack")
        self.blocks = blocks
        self.n_classes = n_classes
        self.members = members
        self.stack = stack

    @classmethod
    def from_pipeline(cls, pipeline: Pipeline, labels: Sequence[str]) -> _FastScorer | None:
        try:
            features = pipeline.named_steps["features"]
            classifier = pipeline.named_steps["classifier"]
            if not isinstance(features, FeatureUnion):
                return None
            weights = features.transformer_weights or {}
            blocks: list[_Block] = []
            offset = 0
            for name, vectorizer in features.transformer_list:
                if not isinstance(vectorizer, TfidfVectorizer) or vectorizer.norm not in (
                    "l1",
                    "l2",
                    None,
                ):
                    return None
                size = len(vectorizer.vocabulary_)
                blocks.append(
                    _Block(
                        analyzer=vectorizer.build_analyzer(),
                        vocabulary=dict(vectorizer.vocabulary_),
                        offset=offset,
                        weight=float(weights.get(name, 1.0)),
                        binary=bool(vectorizer.binary),
                        sublinear=bool(vectorizer.sublinear_tf),
                        idf=np.asarray(vectorizer.idf_, dtype=np.float64)
                        if vectorizer.use_idf
                        else None,
                        norm=vectorizer.norm,
                    )
                )
                offset += size
            classes = [str(c) for c in classifier.classes_]
            if classes != list(labels):
                return None
            stack = _stack(classifier, classes, offset)
            if stack is not None:
                return cls(blocks, len(classes), stack=stack)
            members = _sigmoid_members(classifier, classes, offset)
            if members is not None:
                return cls(blocks, len(classes), members=members)
        except (AttributeError, KeyError, TypeError, ValueError):
            return None
        return None

    def predict_proba(self, text: str) -> np.ndarray:
        parts = [block.features(text) for block in self.blocks]
        indices = np.concatenate([p[0] for p in parts])
        values = np.concatenate([p[1] for p in parts])
        if self.stack is not None:
            stack = self.stack
            decision = values @ stack.coef_t[indices] + stack.intercept
            z = decision @ stack.meta_coef_t + stack.meta_intercept
            if self.n_classes == 2:
                positive = float(expit(z[0]))
                return np.array([1.0 - positive, positive])
            return np.asarray(softmax(z))
        assert self.members is not None
        n_classes = self.n_classes
        total = np.zeros(n_classes)
        for member in self.members:
            decision = values @ member.coef_t[indices] + member.intercept
            calibrated = expit(-(member.slope * decision + member.offset))
            if n_classes == 2:
                proba = np.array([1.0 - calibrated[0], calibrated[0]])
            else:
                denominator = float(calibrated.sum())
                if denominator != 0.0:
                    proba = calibrated / denominator
                else:
                    proba = np.full(n_classes, 1.0 / n_classes)
            proba[(proba > 1.0) & (proba <= 1.0 + 1e-5)] = 1.0
            total += proba
        return total / len(self.members)
