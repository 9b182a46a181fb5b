"""The model blob: an 8-byte header (magic, format version) and a zlib'd pickle.

SECURITY: the payload is a pickle, and unpickling runs arbitrary code. Only blobs this desk
trained and stored itself (its own database/storage) may be passed to ``loads``; never load
a blob that came from a user upload or any other untrusted source.
"""

from __future__ import annotations

import pickle
import struct
import warnings
import zlib
from typing import Final

import sklearn
from sklearn.pipeline import Pipeline

from tickets.classification.local_model.model import ModelFormatError, TrainedModel

#: Version of the ``dumps`` blob layout. Bump it whenever the payload or the pipeline layout
#: changes in a way older code cannot read; ``loads`` refuses blobs of any other version.
#: Pickled pipelines reference ``ticket_head`` and ``StackedSVM`` by import path, as
#: ``tickets.classification.local_model.<name>``: both pin their ``__module__`` to the package,
#: which re-exports them, so moving them between its modules changes nothing stored; renaming
#: either or the package, or dropping the re-export, needs a bump.
FORMAT_VERSION: Final = 2  # 2: StackedSVM replaced CalibratedClassifierCV
_MAGIC: Final = b"HLPCLF"
_HEADER: Final = struct.Struct(">6sH")  # magic, format version (big-endian uint16)


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
