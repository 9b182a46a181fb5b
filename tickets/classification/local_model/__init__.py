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
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from time import perf_counter
from typing import Any, Final

from tickets.classification.local_model.model import (
    MAX_TEXT_CHARS,
    ModelFormatError,
    NotEnoughData,
    Prediction,
    TrainedModel,
)
from tickets.classification.local_model.pipeline import (
    _check_training_data,
    _cross_validate,
    _fit_pipeline,
)
from tickets.classification.local_model.pipeline import ticket_head as ticket_head
from tickets.classification.local_model.prediction import evaluate, predict, predict_many
from tickets.classification.local_model.serialisation import FORMAT_VERSION, dumps, loads
from tickets.classification.local_model.stacking import StackedSVM

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

# The parts of the package (each module says what it holds):
# - model: the shared types (TrainedModel, Prediction, the errors) and the text length limit;
# - pipeline: the scikit-learn pipeline train() fits (features, classifier, cross-validation);
# - stacking: StackedSVM, the stacked logistic calibration;
# - scoring: the single-ticket fast path (_FastScorer);
# - prediction: predict, predict_many, evaluate;
# - serialisation: the blob format (FORMAT_VERSION, dumps, loads).
#
# train() and the helpers that read FORMAT_VERSION and _STACKING_MIN_SAMPLES stay here, so they
# read this module's names: the tests patch them on the package
# (``monkeypatch.setattr(local_model, "FORMAT_VERSION", ...)``). ``ticket_head`` is imported
# for the pickled pipelines, which reference it here (see ``FORMAT_VERSION``).

MODEL_FAMILY: Final = "tfidf-svm"

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
