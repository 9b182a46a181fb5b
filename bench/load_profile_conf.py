"""gunicorn config for `bench_load.py --profile-dir DIR` only: the project's gunicorn.conf.py plus
a cProfile of each worker's main thread (use a sync worker: gthread serves on other threads),
dumped to DIR/<pid>.prof when the worker exits."""

from __future__ import annotations

import cProfile
import os
import runpy
from pathlib import Path
from typing import Any

globals().update(
    {
        k: v
        for k, v in runpy.run_path(
            str(Path(__file__).resolve().parent.parent / "gunicorn.conf.py")
        ).items()
        if not k.startswith("__")
    }
)
_profile = cProfile.Profile()


def post_fork(server: Any, worker: Any) -> None:
    _profile.enable()


def worker_exit(server: Any, worker: Any) -> None:
    _profile.disable()
    _profile.dump_stats(Path(os.environ["BENCH_PROFILE_DIR"]) / f"{os.getpid()}.prof")
