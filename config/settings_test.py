"""Test settings: the same module, with HELPLINE_TESTING on (own Redis database, fast hashing).

Subprocesses started by tests (gunicorn, uvicorn, Celery workers) use this module too.
"""

import os

os.environ.setdefault("HELPLINE_TESTING", "1")

from config.settings import *  # noqa: F403
