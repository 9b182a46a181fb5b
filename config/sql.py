"""The project-wide hand-written SQL (config/). Each statement says why it is not ORM, with its figure.

Values are always parameters; only model metadata is ever written into the text.
"""

from __future__ import annotations


# Why: every API call authenticates; DRF's select_related("user") compiles its join on each
# request, which costs more than PostgreSQL takes to answer, so this is one prepared statement
# (config/rawsql.py); GET /me/ p50 3.1 ms against a 1.0 ms DRF floor (bench/results/api.json).
def token_user(*, user: str, user_table: str, user_pk: str) -> str:
    return (
        f"SELECT {user} FROM authtoken_token t "  # noqa: S608 - model metadata only
        f'JOIN "{user_table}" u ON u."{user_pk}" = t.user_id '
        "WHERE t.key = %s"
    )


# Why: the readiness probe asks PostgreSQL to answer, nothing about any model; no figure.
PING = "SELECT 1"
