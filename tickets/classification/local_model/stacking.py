"""``StackedSVM``: a linear SVM calibrated by a logistic layer fitted on out-of-fold scores."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np
from joblib import Parallel, delayed, parallel_config
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.svm import LinearSVC


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

    # Pickled by the package's path, as before the package was split into modules.
    __module__ = "tickets.classification.local_model"

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
