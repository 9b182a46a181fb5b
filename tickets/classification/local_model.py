"""Offline ticket classifier: word + character TF-IDF and a calibrated linear SVM.

Pure Python + scikit-learn (no Django), so it can be trained, benchmarked and tested on its own.

Model (chosen on the IT service-desk corpus, see ``bench/bench_classifier.py``):

* features: a ``FeatureUnion`` of
  - word uni- and bi-grams, sublinear tf, *no* idf, l2-normalised (idf cost ~0.5 pt of accuracy
    on this corpus: ticket text is already stop-word free, and repeated words carry the signal);
  - ``char_wb`` 3-5-grams, sublinear tf-idf, l2-normalised, weighted 0.7 (robust to typos and
    word-form variants);
  - the ticket's first 6 words (in practice its subject line) as their own uni+bi-grams,
    weighted 0.4 (+0.3 pt, paired over 3 CV folds);
* classifier: one-vs-rest ``LinearSVC(C=0.3)``, calibrated by stacking (``StackedSVM``): a
  multinomial logistic regression is fitted on the SVM's *out-of-fold* decision values (3
  stratified folds), so ``Prediction.confidence`` is a calibrated probability in [0, 1]. Unlike
  the per-class Platt sigmoids it replaced (``CalibratedClassifierCV``, format version 1), the
  logistic layer sees all 8 class scores at once and can correct systematic confusions (e.g.
  "Hardware" winning narrowly over "Miscellaneous"): +0.17 pt of accuracy, 5-fold CV on the 80%
  part (0.8619 -> 0.8635, better or equal on 4 of 5 folds), at the same training cost.
  Below 2,000 training tickets (``_STACKING_MIN_SAMPLES``) the layer has too little evidence and
  the Platt sigmoids are kept (``params["calibration"]`` says which one a model uses).

Variants measured and dropped (stratified 80/20 split, 30.5k training tickets; plain word
TF-IDF + LinearSVC scores ~0.858 there): idf on words, binary tf, word 1-3-grams, min_df=1,
ComplementNB (0.80) and its soft-vote ensembles with SVM / logistic regression, NB-SVM, logistic
regression (0.860, 10x slower), k-NN (0.76), a sparse MLP (0.84), stacking of SVM/NB scores
(+0.1 pt for 3x the training time), ``ensemble=True``/isotonic/temperature calibration
(same accuracy; sigmoid had the best log-loss).

A second pass (5-fold CV on the 80% part, 24.4k training tickets per fold, where this model
scores 0.8606; table in docs/classification.md) found nothing that clears the noise: word 1-3-grams,
``char_wb`` 3-6, char weight 1.0, idf words on top of tf words, ``class_weight="balanced"`` (+0.15
pt uncalibrated, -0.26 pt held-out once calibrated), C in 0.15-1.0, hinge loss, Crammer-Singer,
SGD modified-huber all land in 0.852-0.862. Stacking the SVM with a cosine k-NN over the same
features (logistic meta-model on out-of-fold scores) gave +0.6 pt on one fold (0.8587 -> 0.8644),
but the k-NN needs the whole training matrix in the stored model (~160 MB for 30k tickets; the
word-only k-NN, ~20 MB, adds 0.1 pt) and the out-of-fold scores 5x the training time: not used.

A third pass (docs/classification.md): kNN over a 128-dimensional truncated SVD of the same
features, stacked the same way, adds another +0.2 pt (0.8656), but the SVD alone costs 30-60 s of
training: over the 60 s budget. Confident-learning filtering of the training set (drop tickets
whose out-of-fold score contradicts their label) and one-vs-one SVMs lose 0.1-1.2 pt.

Single-ticket prediction does not go through the scikit-learn pipeline (whose per-call input
validation costs milliseconds); ``_FastScorer`` recomputes exactly the same features and
probabilities from the fitted pipeline's vocabularies, weights and logistic layer in ~0.2 ms.
Batches (``predict_many``/``evaluate``) use the pipeline itself.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import pickle
import struct
import warnings
import zlib
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from time import perf_counter
from typing import Any, Final

import numpy as np
import sklearn
from joblib import Parallel, delayed, parallel_config
from scipy.special import expit, softmax
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score, precision_recall_fscore_support
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.svm import LinearSVC

__all__ = [
    "DEFAULT_PARAMS",
    "FORMAT_VERSION",
    "MAX_TEXT_CHARS",
    "ModelFormatError",
    "NotEnoughData",
    "Prediction",
    "StackedSVM",
    "TrainedModel",
    "dumps",
    "evaluate",
    "loads",
    "predict",
    "predict_many",
    "train",
]

MODEL_FAMILY: Final = "tfidf-svm"

#: Version of the ``dumps`` blob layout. Bump it whenever the payload or the pipeline layout
#: changes in a way older code cannot read; ``loads`` refuses blobs of any other version.
#: Pickled pipelines reference ``ticket_head`` and ``StackedSVM`` (and this module) by import
#: path: moving or renaming any of them also needs a bump.
FORMAT_VERSION: Final = 2  # 2: StackedSVM replaced CalibratedClassifierCV
_MAGIC: Final = b"HLPCLF"
_HEADER: Final = struct.Struct(">6sH")  # magic, format version (big-endian uint16)

#: Texts are cut to this many characters before training and prediction: the longest ticket of
#: the reference corpus has ~7,000 characters, and an unbounded text would make the character
#: n-gram analyser (and so the request) arbitrarily slow.
MAX_TEXT_CHARS: Final = 10_000

#: Below this many training samples the vocabularies keep terms seen once (``min_df=1``),
#: otherwise a term must occur in at least ``min_df`` tickets.
_SMALL_DATA_SAMPLES: Final = 1_000

#: Below this many training samples the SVM is calibrated by per-class Platt sigmoids
#: (``CalibratedClassifierCV``) instead of the stacked logistic layer: with a few hundred tickets
#: the layer's 72 weights are fitted on too little out-of-fold evidence (400 tickets: 0.687 vs
#: 0.718 accuracy, 1,000: equal, 3,000: +0.1-0.3 pt; 3 random draws of the 80% part each).
_STACKING_MIN_SAMPLES: Final = 2_000

DEFAULT_PARAMS: Final[Mapping[str, Any]] = {
    "word_ngram_range": [1, 2],
    "word_use_idf": False,
    "char_ngram_range": [3, 5],
    "char_weight": 0.7,
    "head_words": 6,
    "head_weight": 0.4,
    "min_df": 2,
    "C": 0.3,
    "max_iter": 5_000,
    "calibration": "stacked-logistic",
    "calibration_folds": 3,
    "calibration_C": 1.0,
    "max_text_chars": MAX_TEXT_CHARS,
}


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


# --------------------------------------------------------------------------------------------
# Training


def _clip(text: str) -> str:
    return text[:MAX_TEXT_CHARS]


def _check_training_data(
    texts: Sequence[str], labels: Sequence[str]
) -> tuple[list[str], list[str], Counter[str]]:
    if len(texts) != len(labels):
        raise ValueError(f"got {len(texts)} texts but {len(labels)} labels")
    text_list: list[str] = []
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise TypeError(f"texts[{i}] is {type(text).__name__}, expected str")
        text_list.append(_clip(text))
    label_list: list[str] = []
    for i, label in enumerate(labels):
        if not isinstance(label, str) or not label.strip():
            raise ValueError(f"labels[{i}] must be a non-empty string, got {label!r}")
        label_list.append(label)
    counts = Counter(label_list)
    if len(counts) < 2:
        found = f"only {next(iter(counts))!r}" if counts else "no samples"
        raise NotEnoughData(f"training needs at least 2 distinct categories, got {found}")
    rare = sorted(label for label, n in counts.items() if n < 2)
    if rare:
        raise NotEnoughData(
            "every category needs at least 2 labelled tickets; too few for: " + ", ".join(rare)
        )
    return text_list, label_list, counts


def ticket_head(text: str, n_words: int) -> str:
    """The first ``n_words`` words of a ticket, lower-cased: usually its subject line.

    Module-level (not a lambda) so that fitted pipelines stay picklable.
    """
    return " ".join(text.lower().split()[:n_words])


def _effective_params(n_samples: int) -> dict[str, Any]:
    params = copy.deepcopy(dict(DEFAULT_PARAMS))
    if n_samples < _SMALL_DATA_SAMPLES:
        params["min_df"] = 1
    if n_samples < _STACKING_MIN_SAMPLES:
        params["calibration"] = "sigmoid"
        del params["calibration_C"]
    return params


def _data_version(
    texts: Sequence[str], labels: Sequence[str], params: Mapping[str, Any], random_state: int
) -> str:
    digest = hashlib.sha256()
    digest.update(
        json.dumps(
            # The blob format too: a model re-trained after a format bump is a new version
            # (a new row), never the old row with its blob that can no longer be loaded.
            {"params": params, "random_state": random_state, "format": FORMAT_VERSION},
            sort_keys=True,
        ).encode()
    )
    for text, label in zip(texts, labels, strict=True):
        # Unit/record separators cannot be confused with ticket text boundaries.
        digest.update(b"\x1e" + text.encode("utf-8", "surrogatepass"))
        digest.update(b"\x1f" + label.encode("utf-8", "surrogatepass"))
    return f"{MODEL_FAMILY}-{digest.hexdigest()[:12]}"


class StackedSVM(ClassifierMixin, BaseEstimator):
    """A one-vs-rest ``LinearSVC`` calibrated by a multinomial logistic regression (stacking).

    ``fit`` computes the SVM's decision values for every training ticket out of fold
    (``folds`` stratified, shuffled folds, seeded by ``random_state``), fits the logistic layer
    on them, then fits the SVM on all the data. ``predict_proba`` is the logistic layer applied
    to the full SVM's decision values. The fold fits run in ``n_jobs`` threads (liblinear
    releases the GIL); None or 1 is sequential and bit-for-bit reproducible. Threaded fits are
    reproducible only to ~1e-5 in the probabilities: liblinear shuffles with the C library's
    process-global ``rand()``, which concurrent fits interleave.

    Module-level so that fitted pipelines stay picklable (see ``FORMAT_VERSION``).
    """

    def __init__(
        self,
        C: float = 0.3,
        max_iter: int = 5_000,
        folds: int = 3,
        meta_C: float = 1.0,
        random_state: int = 0,
        n_jobs: int | None = None,
    ) -> None:
        self.C = C
        self.max_iter = max_iter
        self.folds = folds
        self.meta_C = meta_C
        self.random_state = random_state
        self.n_jobs = n_jobs

    def _svm(self) -> LinearSVC:
        return LinearSVC(C=self.C, max_iter=self.max_iter, random_state=self.random_state)

    @staticmethod
    def _scores(svm: LinearSVC, X: Any) -> np.ndarray:
        decision = np.asarray(svm.decision_function(X), dtype=np.float64)
        return decision.reshape(decision.shape[0], -1)

    def _fold_scores(
        self, X: Any, y: np.ndarray, train_idx: np.ndarray, test_idx: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        return test_idx, self._scores(self._svm().fit(X[train_idx], y[train_idx]), X[test_idx])

    def fit(self, X: Any, y: Sequence[str]) -> StackedSVM:
        labels = np.asarray(y)
        self.classes_ = np.unique(labels)
        if len(self.classes_) < 2:
            raise ValueError("StackedSVM needs at least 2 classes")
        folds = min(int(self.folds), int(min(Counter(labels.tolist()).values())))
        if folds < 2:
            raise ValueError("StackedSVM needs at least 2 samples of every class")
        splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=self.random_state)
        tasks = [
            delayed(self._fold_scores)(X, labels, tr, te) for tr, te in splitter.split(X, labels)
        ]
        tasks.append(delayed(self._svm().fit)(X, labels))
        with parallel_config(backend="threading"):
            results = Parallel(n_jobs=self.n_jobs)(tasks)
        self.svm_ = results.pop()
        width = 1 if len(self.classes_) == 2 else len(self.classes_)
        out_of_fold = np.zeros((labels.shape[0], width))
        for test_idx, scores in results:
            out_of_fold[test_idx] = scores
        # Newton-Cholesky: the layer has only (n_classes + 1) x n_classes weights, and lbfgs
        # needed ~110 iterations (4 s CPU on the 38k-ticket corpus) and still stopped farther
        # from the optimum than Newton's 5.
        self.meta_ = LogisticRegression(
            C=self.meta_C, solver="newton-cholesky", max_iter=1_000
        ).fit(out_of_fold, labels)
        return self

    def decision_function(self, X: Any) -> np.ndarray:
        return np.asarray(self.meta_.decision_function(self._scores(self.svm_, X)))

    def predict_proba(self, X: Any) -> np.ndarray:
        return np.asarray(self.meta_.predict_proba(self._scores(self.svm_, X)))

    def predict(self, X: Any) -> np.ndarray:
        return np.asarray(self.classes_[np.argmax(self.predict_proba(X), axis=1)])


def _build_pipeline(
    params: Mapping[str, Any], *, calibration_folds: int, random_state: int, n_jobs: int | None
) -> Pipeline:
    word = TfidfVectorizer(
        ngram_range=tuple(params["word_ngram_range"]),
        min_df=params["min_df"],
        sublinear_tf=True,
        use_idf=params["word_use_idf"],
    )
    char = TfidfVectorizer(
        analyzer="char_wb",
        ngram_range=tuple(params["char_ngram_range"]),
        min_df=params["min_df"],
        sublinear_tf=True,
    )
    head = TfidfVectorizer(
        preprocessor=partial(ticket_head, n_words=int(params["head_words"])),
        ngram_range=tuple(params["word_ngram_range"]),
        min_df=params["min_df"],
        sublinear_tf=True,
    )
    features = FeatureUnion(
        [("word", word), ("char", char), ("head", head)],
        transformer_weights={
            "word": 1.0,
            "char": params["char_weight"],
            "head": params["head_weight"],
        },
    )
    classifier: StackedSVM | CalibratedClassifierCV
    if params["calibration"] == "stacked-logistic":
        classifier = StackedSVM(
            C=params["C"],
            max_iter=params["max_iter"],
            folds=calibration_folds,
            meta_C=params["calibration_C"],
            random_state=random_state,
            n_jobs=n_jobs,
        )
    elif params["calibration"] == "sigmoid":
        svm = LinearSVC(C=params["C"], max_iter=params["max_iter"], random_state=random_state)
        classifier = CalibratedClassifierCV(
            svm, method="sigmoid", cv=calibration_folds, ensemble=False, n_jobs=n_jobs
        )
    else:
        raise ValueError(f"unknown calibration {params['calibration']!r}")
    return Pipeline([("features", features), ("classifier", classifier)])


def _fit_pipeline(
    texts: list[str],
    labels: list[str],
    params: Mapping[str, Any],
    *,
    random_state: int,
    n_jobs: int | None,
) -> Pipeline:
    min_count = min(Counter(labels).values())
    folds = min(int(params["calibration_folds"]), min_count)
    pipeline = _build_pipeline(
        params, calibration_folds=folds, random_state=random_state, n_jobs=n_jobs
    )
    try:
        # Threads, not processes: liblinear releases the GIL, so the calibration folds' SVM fits
        # run in parallel without copying the feature matrix into worker processes, and this
        # also works inside daemonised (e.g. Celery prefork) workers.
        with parallel_config(backend="threading"):
            pipeline.fit(texts, labels)
    except ValueError as exc:
        message = str(exc)
        if "empty vocabulary" in message or "no terms remain" in message:
            raise NotEnoughData(
                "the training texts contain no usable words (empty or one-letter texts?)"
            ) from exc
        raise
    return pipeline


def _cross_validate(
    texts: list[str],
    labels: list[str],
    params: Mapping[str, Any],
    *,
    folds: int,
    random_state: int,
    n_jobs: int | None,
) -> dict[str, Any]:
    min_count = min(Counter(labels).values())
    n_splits = min(folds, min_count)
    if n_splits < 2:
        return {"cv_folds": 0, "cv_note": "skipped: a category has fewer than 2 tickets"}
    splitter = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=random_state)
    label_array = np.asarray(labels)
    splits = list(splitter.split(np.zeros(len(labels)), label_array))
    for train_idx, _ in splits:
        if min(Counter(label_array[train_idx].tolist()).values()) < 2:
            return {
                "cv_folds": 0,
                "cv_note": f"skipped: {n_splits}-fold training splits would hold a single "
                "ticket of some category",
            }
    accuracies: list[float] = []
    f1s: list[float] = []
    for train_idx, test_idx in splits:
        pipeline = _fit_pipeline(
            [texts[i] for i in train_idx],
            label_array[train_idx].tolist(),
            params,
            random_state=random_state,
            n_jobs=n_jobs,
        )
        predicted = pipeline.predict([texts[i] for i in test_idx])
        accuracies.append(float(accuracy_score(label_array[test_idx], predicted)))
        f1s.append(float(f1_score(label_array[test_idx], predicted, average="macro")))
    return {
        "cv_folds": n_splits,
        "cv_accuracy": round(float(np.mean(accuracies)), 6),
        "cv_accuracy_std": round(float(np.std(accuracies)), 6),
        "cv_macro_f1": round(float(np.mean(f1s)), 6),
    }


def train(
    texts: Sequence[str],
    labels: Sequence[str],
    *,
    cv_folds: int = 0,
    random_state: int = 0,
    n_jobs: int | None = None,
) -> TrainedModel:
    """Fit the classifier on labelled tickets.

    ``cv_folds >= 2`` also estimates accuracy and macro-F1 by stratified k-fold cross-validation
    (k is lowered to the smallest category's size; skipped, with a ``cv_note``, when even that
    is impossible). ``n_jobs`` runs the SVM fits of the calibration folds in that many threads
    (the default, None, is sequential).

    Raises ``NotEnoughData`` for fewer than 2 categories, a category with fewer than 2 tickets,
    or texts without any usable word.
    """
    if cv_folds < 0 or cv_folds == 1:
        raise ValueError("cv_folds must be 0 (no cross-validation) or at least 2")
    text_list, label_list, counts = _check_training_data(texts, labels)
    params = _effective_params(len(text_list))
    version = _data_version(text_list, label_list, params, random_state)

    metrics: dict[str, Any] = {
        "format_version": FORMAT_VERSION,
        "n_samples": len(text_list),
        "n_classes": len(counts),
        "class_counts": dict(sorted(counts.items())),
        "cv_folds": 0,
        "cv_accuracy": None,
        "cv_accuracy_std": None,
        "cv_macro_f1": None,
    }
    if cv_folds:
        metrics.update(
            _cross_validate(
                text_list,
                label_list,
                params,
                folds=cv_folds,
                random_state=random_state,
                n_jobs=n_jobs,
            )
        )

    started = perf_counter()
    pipeline = _fit_pipeline(
        text_list, label_list, params, random_state=random_state, n_jobs=n_jobs
    )
    metrics["train_seconds"] = round(perf_counter() - started, 3)

    model = TrainedModel(
        pipeline=pipeline,
        labels=[str(label) for label in pipeline.classes_],
        version=version,
        metrics=metrics,
        trained_at=datetime.now(UTC).isoformat(timespec="seconds"),
        params=params,
    )
    model.scorer()
    return model


# --------------------------------------------------------------------------------------------
# Prediction


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


# --------------------------------------------------------------------------------------------
# Serialisation
#
# SECURITY: the payload is a pickle, and unpickling runs arbitrary code. Only blobs this desk
# trained and stored itself (its own database/storage) may be passed to ``loads``; never load
# a blob that came from a user upload or any other untrusted source.


def dumps(model: TrainedModel) -> bytes:
    """Serialise a model to bytes: an 8-byte header (magic, format version) + zlib'd pickle."""
    payload = {
        "pipeline": model.pipeline,
        "labels": list(model.labels),
        "version": model.version,
        "metrics": model.metrics,
        "trained_at": model.trained_at,
        "params": model.params,
        "sklearn_version": sklearn.__version__,
    }
    body = zlib.compress(pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL), 3)
    return _HEADER.pack(_MAGIC, FORMAT_VERSION) + body


def loads(data: bytes | bytearray | memoryview) -> TrainedModel:
    """Inverse of ``dumps``. Raises ``ModelFormatError`` for foreign or other-version blobs.

    Only for blobs produced by this desk's own ``dumps`` (see the security note above).
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise TypeError(f"expected bytes, got {type(data).__name__}")
    raw = bytes(data)
    if len(raw) < _HEADER.size:
        raise ModelFormatError("not a Helpline classifier blob (too short)")
    magic, version = _HEADER.unpack_from(raw)
    if magic != _MAGIC:
        raise ModelFormatError("not a Helpline classifier blob (bad header)")
    if version != FORMAT_VERSION:
        raise ModelFormatError(
            f"classifier blob has format version {version}, this code reads version "
            f"{FORMAT_VERSION}; retrain the model"
        )
    try:
        payload = pickle.loads(zlib.decompress(raw[_HEADER.size :]))  # noqa: S301 - own blobs only
        if not isinstance(payload, dict):
            raise TypeError(f"payload is a {type(payload).__name__}, not a dict")
        pipeline = payload["pipeline"]
        labels = [str(label) for label in payload["labels"]]
    except (
        zlib.error,
        pickle.UnpicklingError,
        EOFError,
        KeyError,
        TypeError,
        ValueError,
        IndexError,
        AttributeError,  # a pickled class/function no longer exists where it was
        ImportError,
    ) as exc:
        raise ModelFormatError(f"corrupt or incompatible classifier blob: {exc!r}") from exc
    if not isinstance(pipeline, Pipeline):
        raise ModelFormatError("corrupt classifier blob: payload holds no sklearn Pipeline")
    saved_with = payload.get("sklearn_version")
    if saved_with != sklearn.__version__:
        warnings.warn(
            f"classifier blob was saved with scikit-learn {saved_with}, running "
            f"{sklearn.__version__}; retrain if predictions look wrong",
            stacklevel=2,
        )
    return TrainedModel(
        pipeline=pipeline,
        labels=labels,
        version=str(payload["version"]),
        metrics=dict(payload.get("metrics") or {}),
        trained_at=str(payload.get("trained_at", "")),
        params=dict(payload.get("params") or {}),
    )
