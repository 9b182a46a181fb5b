"""The exports app's hand-written SQL. Each statement says why it is not ORM, with its figure.

Values are always parameters; only Django-compiled SQL, fixed aliases and model metadata are
ever written into the text.
"""

from __future__ import annotations

# --- CSV cells formatted by PostgreSQL (exports.columns) -----------------------------------------
# Why: COPY ... (FORMAT csv) writes the cells exactly as exports.writers.CsvWriter would, with no
# Python loop over cells: a 100k-ticket CSV export runs at 0.85 of its own plain COPY's speed
# (export_vs_its_own_copy, bench/results/exports.json). Templates put an expression at `{x}`.

# Code points of the OWASP formula triggers: tab, CR, "+", "-", "=", "@" (see writers.neutralise_cell).
_TRIGGER_CODES = "9, 13, 43, 45, 61, 64"
# Every trigger is below "A" (65): most cells start with a letter and stop at the cheaper test.
NEUTRALISED = (
    f"CASE WHEN ascii({{x}}) < 65 AND ascii({{x}}) IN ({_TRIGGER_CODES}) "
    "THEN '''' || {x} ELSE {x} END"
)
TEXT_CELL = f"NULLIF({NEUTRALISED}, '')"
# Python's datetime.isoformat() drops an all-zero fraction; to_char always prints six digits.
ISO_UTC = (
    "replace(to_char({x} AT TIME ZONE 'UTC', "
    "'YYYY-MM-DD\"T\"HH24:MI:SS.US\"+00:00\"'), '.000000+', '+')"
)
# A bool cast to text is "true"/"false" (its COPY output would be "t"/"f"); NULL stays NULL.
BOOL_CELL = "({x})::text"

# Items are joined with U+001F and every item start that is a formula trigger gets its quote in
# one regexp pass; then the separators become ";". Much cheaper than unnesting each row's array.
# An item that itself contains U+001F would be split wrongly, so such rows take the exact,
# slower path that neutralises item by item.
_LIST_FAST = (
    "NULLIF(substr(replace(regexp_replace(E'\\x1f' || array_to_string({x}, E'\\x1f'), "
    "E'\\x1f([-=+@\\t\\r])', E'\\x1f''\\\\1', 'g'), E'\\x1f', ';'), 2), '')"
)
_LIST_EXACT = (
    "NULLIF((SELECT string_agg("  # noqa: S608
    + NEUTRALISED.replace("{x}", "u.item")
    + ", ';' ORDER BY u.n) FROM unnest({x}) WITH ORDINALITY AS u(item, n)), '')"
)
# Each item is neutralised on its own, like writers.format_csv_cell does for lists. Most
# lists need nothing, and one regexp match on the U+001F-joined items proves it: every item
# starts the string or follows a U+001F, so no match means no item starts with a trigger.
# Only a list that matches is checked for an item holding U+001F itself (exact path).
LIST_CELL = (
    "CASE WHEN cardinality({x}) = 0 THEN NULL "
    "WHEN array_to_string({x}, E'\\x1f') !~ E'(^|\\x1f)[-=+@\\t\\r]' "
    "THEN NULLIF(array_to_string({x}, ';'), '') "
    "WHEN strpos(array_to_string({x}, ''), E'\\x1f') > 0 THEN "
    + _LIST_EXACT
    + " ELSE "
    + _LIST_FAST
    + " END"
)


def evaluated_once(body: str, inner: str) -> str:
    """`body` (a template filled with `once.v`) over `inner` evaluated once per row; OFFSET 0
    keeps the planner from inlining the value back into every use."""
    return f"(SELECT {body} FROM (SELECT ({inner}) AS v OFFSET 0) AS once)"  # noqa: S608


# --- the COPY statements (exports.selectors) -----------------------------------------------------
# Why: COPY streams the rows as PostgreSQL formats them (no rows through Python); see above for
# the figure. `inner` is Django-compiled SQL; the select lists are fixed aliases.
def copy_csv(select: str, inner: str) -> str:
    return f"COPY (SELECT {select} FROM ({inner}) AS i) TO STDOUT (FORMAT csv)"  # noqa: S608


# Why: as copy_csv, JSON lines by row_to_json; 100k JSONL at 89,731 rows/s
# (bench/results/exports.json).
def copy_jsonl(renamed: str, inner: str) -> str:
    return (
        f"COPY (SELECT row_to_json(r) FROM (SELECT {renamed} FROM ({inner}) AS i) AS r) TO STDOUT"  # noqa: S608
    )


# Why: the count over the same Django-compiled query in the COPY's snapshot (rows_total exact);
# a subquery count, which QuerySet.count() cannot run on the export's own psycopg session; no figure.
def count(inner: str) -> str:
    return f"SELECT count(*) FROM ({inner}) AS c"  # noqa: S608


# --- the job's session (exports.streaming) -------------------------------------------------------
# Why: advisory locks (no ORM form): the job's session lock, released by PostgreSQL when the
# worker dies, is how a retry knows its predecessor is gone (ADR 0007); no figure.
JOB_LOCK = "SELECT pg_advisory_lock(%s, %s)"

# Why: which jobs' advisory locks a live session holds: pg_locks is a system view (no model);
# no figure.
LOCKED_JOBS = """
SELECT objid::bigint FROM pg_locks
WHERE locktype = 'advisory' AND granted AND objsubid = 2 AND classid = %s
  AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
  AND objid::bigint = ANY(%s)
"""

# Why: the job's snapshot exported for the sessions that stream its other ranges (ADR 0007), a
# server function with no ORM form; 100k CSV on 2 sessions, see above; no figure of its own.
EXPORT_SNAPSHOT = "SELECT pg_export_snapshot()"
