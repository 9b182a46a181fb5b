"""The scikit-learn pipeline ``train`` fits: input checks, the feature union, the classifier.

Also fitting it (threads, and ``NotEnoughData`` for texts without usable words) and its
stratified k-fold cross-validation.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from functools import partial
from typing import Any

import numpy as np
from joblib import parallel_config
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.svm import LinearSVC

from tickets.classification.local_model.model import NotEnoughData, _clip
from tickets.classification.local_model.stacking import StackedSVM


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


# Pickled by the package's path, as before the package was split into modules (the very string
# of StackedSVM's, so a pickled pipeline holds it once, as before).
ticket_head.__module__ = StackedSVM.__module__


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
