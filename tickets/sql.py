"""The tickets app's hand-written SQL. Each statement says why it is not ORM, with its figure.

Values are always parameters; only model metadata is ever written into the text.
"""

from __future__ import annotations

# Why: the gap reads run on every move and create; one indexed probe each (~0.05 ms to execute)
# where the ORM's compile alone was ~0.5 ms (ADR 0005). `rank` has the C collation, so these
# comparisons and orders are the unique index's own.
RANK_AFTER = """
SELECT rank FROM tickets_ticket
WHERE project_id = %(project)s AND rank > %(rank)s AND id <> %(exclude)s
ORDER BY rank LIMIT 1
"""
RANK_BEFORE = """
SELECT rank FROM tickets_ticket
WHERE project_id = %(project)s AND rank < %(rank)s AND id <> %(exclude)s
ORDER BY rank DESC LIMIT 1
"""
# Why: a column may show several statuses; its last ticket is found per status on
# ticket_board_idx (project, status, rank) and the best one kept, never by sorting the column
# (an ORM order_by over status__in sorts the whole column: 100k rows).
BOTTOM = """
WITH last AS (
    SELECT x.rank FROM unnest(%(statuses)s::bigint[]) AS st (status_id)
    CROSS JOIN LATERAL (
        SELECT t.rank FROM tickets_ticket t
        WHERE t.project_id = %(project)s AND t.status_id = st.status_id AND NOT t.is_archived
          AND t.id <> %(exclude)s
        ORDER BY t.rank DESC LIMIT 1) AS x
    ORDER BY x.rank DESC LIMIT 1
)
SELECT l.rank, (SELECT t.rank FROM tickets_ticket t
                WHERE t.project_id = %(project)s AND t.rank > l.rank AND t.id <> %(exclude)s
                ORDER BY t.rank LIMIT 1)
FROM last l
UNION ALL
SELECT (SELECT t.rank FROM tickets_ticket t
        WHERE t.project_id = %(project)s AND t.id <> %(exclude)s
        ORDER BY t.rank DESC LIMIT 1), NULL
WHERE NOT EXISTS (SELECT 1 FROM last)
"""
# Why: as BOTTOM, the column's next ticket after a rank per status on ticket_board_idx.
NEXT_IN_COLUMN = """
SELECT (SELECT x.id FROM unnest(%(statuses)s::bigint[]) AS st (status_id)
        CROSS JOIN LATERAL (
            SELECT t.id, t.rank FROM tickets_ticket t
            WHERE t.project_id = %(project)s AND t.status_id = st.status_id AND NOT t.is_archived
              AND t.rank > %(rank)s AND t.id <> %(exclude)s
            ORDER BY t.rank LIMIT 1) AS x
        ORDER BY x.rank LIMIT 1),
       (SELECT t.rank FROM tickets_ticket t
        WHERE t.project_id = %(project)s AND t.rank > %(rank)s AND t.id <> %(exclude)s
        ORDER BY t.rank LIMIT 1)
"""

# Why: the detail read is one prepared statement of seven joins (~0.06 ms as a generic plan
# against ~1 ms of planning each time, ADR 0005). The visibility rule is
# `selectors.Visibility` (the one definition); these are its parameters, and
# tickets/tests/test_visibility.py holds this text and `Visibility.q()` to the same answers.
VISIBLE = """(%(vis_all)s OR t.project_id = ANY(%(vis_staff)s::bigint[])
    OR (t.project_id = ANY(%(vis_customer)s::bigint[])
        AND (t.requester_id = %(vis_user)s OR t.created_by_id = %(vis_user)s)))"""

# --- full tickets (tickets.selectors) ------------------------------------------------------------
# The people a ticket shows (id + username) and their join aliases.
PEOPLE = (("assignee", "a"), ("requester", "r"), ("created_by", "c"))
_PEOPLE_SQL = ", ".join(f"{alias}.username" for _, alias in PEOPLE)
_PEOPLE_JOINS = " ".join(
    f"LEFT JOIN helpline_user {alias} ON {alias}.id = t.{name}_id" for name, alias in PEOPLE
)


# Why: detail, list pages and the move's rows read a ticket with project, status, people and SLA
# row in one prepared statement; the ORM's seven-way select_related cost ~1.5 ms to compile, and
# planning the join ~1 ms against ~0.05 ms as a generic plan (ADR 0005); detail p50 1.91 ms at
# 1M tickets (bench/results/tickets.json). Callers append WHERE with parameters.
def full_ticket(*, ticket: str, project: str, status: str, sla: str) -> str:
    return f"""
SELECT {ticket}, {project}, {status}, {_PEOPLE_SQL}, {sla}
FROM tickets_ticket t
JOIN tickets_project p ON p.id = t.project_id
JOIN tickets_status s ON s.id = t.status_id
{_PEOPLE_JOINS}
LEFT JOIN sla_ticketsla l ON l.ticket_id = t.id
"""  # noqa: S608 - select lists from model metadata only


# Why: as full_ticket, for board cards, without the project and status columns the board already
# holds (on a 250-card board decoding them 250 times cost more than the rest of the row, ADR 0005).
def board_cards(*, ticket: str, sla: str) -> str:
    return f"""
SELECT {ticket}, {_PEOPLE_SQL}, {sla}
FROM tickets_ticket t
{_PEOPLE_JOINS}
LEFT JOIN sla_ticketsla l ON l.ticket_id = t.id
WHERE t.id = ANY(%(ids)s) AND t.project_id = %(project)s AND t.status_id = ANY(%(statuses)s)
"""  # noqa: S608 - select lists from model metadata only


# Why: every ticket write starts with the ticket's project and people and the writer's role there
# (the rule itself is `Visibility.sees`, in Python); the ORM's Subquery form took ~0.9 ms to compile
# and run, this prepared statement ~0.14 ms (bench/bench_one_road.py).
TICKET_ROLE = """
SELECT t.project_id, t.requester_id, t.created_by_id, m.role
FROM tickets_ticket t
LEFT JOIN tickets_membership m ON m.project_id = t.project_id AND m.user_id = %(user)s
WHERE t.id = %(ticket)s
"""


# Why: a project's columns with the statuses each shows, for every board load, move and column
# change (ColumnLayout is built from it); the ORM's query plus a select_related prefetch cost ~1.6 ms to compile and run, this
# prepared statement ~0.3 ms (bench/bench_one_road.py's board).
def columns_with_statuses(*, column: str, status: str) -> str:
    return f"""
SELECT {column}, {status}
FROM tickets_boardcolumn c
LEFT JOIN tickets_columnstatus cs ON cs.column_id = c.id
LEFT JOIN tickets_status s ON s.id = cs.status_id
WHERE c.project_id = %(project)s
ORDER BY c."order", c.id, cs.id
"""  # noqa: S608 - select lists from model metadata only


# Why: the board's frame (project, the user's role, the last seq) in one prepared statement read
# before any ticket, so events after it are replayed, not missed; no figure of its own.
def board_frame(*, project: str) -> str:
    return f"""
SELECT {project}, m.role, coalesce(bc.last_seq, 0)
FROM tickets_project p
LEFT JOIN tickets_membership m ON m.project_id = p.id AND m.user_id = %(user)s
LEFT JOIN notifications_boardeventcounter bc ON bc.project_id = p.id
WHERE p.key = %(key)s
"""  # noqa: S608 - select list from model metadata only


# Why: the board's counts from the trigger-kept deltas, prepared on every board load (a handful
# of rows once compacted, against counting 100k tickets, ADR 0005); no figure of its own.
STATUS_COUNTS = """
SELECT status_id, sum(n) FROM tickets_ticketcountdelta WHERE project_id = %s GROUP BY status_id
"""


# Why: a board column's first `limit` tickets per status by an ordered read of ticket_board_idx,
# merged, never the whole column sorted; the LIMIT is written in (a validated int) because a
# prepared generic plan cannot know a LIMIT parameter and would sort whole columns. Board 5 x 50
# of 100k, the read this serves: p50 15.0 ms (bench/results/ranks.json). One part per column,
# joined by UNION ALL.
def column_head(limit: int) -> str:
    n = int(limit)
    return (
        "(SELECT %s AS column_id, x.id FROM unnest(%s::bigint[]) AS st (status_id) "  # noqa: S608
        "CROSS JOIN LATERAL (SELECT t.id, t.rank FROM tickets_ticket t "
        "WHERE t.project_id = %s AND NOT t.is_archived AND t.status_id = st.status_id "
        f"ORDER BY t.rank LIMIT {n}) AS x ORDER BY x.rank LIMIT {n})"
    )


# --- filters (tickets.filters) -------------------------------------------------------------------
# Why: project and status keys become ids in one prepared round trip before a list or search page,
# so the planner can size them (with a join on the key it guessed 2 rows for 14k and walked the
# heap, ADR 0005); the search page it serves: p50 10.9 ms at 1M tickets (bench/results/tickets.json).
FILTER_KEYS = """
SELECT (SELECT id FROM tickets_project WHERE key = %(project)s),
       (SELECT array_agg(id) FROM tickets_status WHERE key = ANY(%(statuses)s)),
       (SELECT array_agg(id) FROM tickets_status WHERE category = ANY(%(categories)s))
"""

# --- writes (tickets.services) -------------------------------------------------------------------
# Why: the per-project ticket number taken and read in one atomic UPDATE ... RETURNING on every
# create (the ORM's update() returns a row count: a second statement); no figure.
NEXT_NUMBER = """
UPDATE tickets_project SET ticket_counter = ticket_counter + 1 WHERE id = %s
RETURNING ticket_counter
"""

# Why: full-text search: the weighted tsvector over the ticket and its public messages written in
# one UPDATE with a correlated string_agg (no message bodies through Python); a new public message
# also touches `updated_at` and may set `first_response_at` here, so a reply writes the ticket row
# once (TOUCH_AND_REFRESH_SEARCH_VECTOR); no figure.
_SEARCH_VECTOR = """
    setweight(to_tsvector('english', coalesce(t.title, '')), 'A')
    || setweight(to_tsvector('english', coalesce(t.description, '')), 'B')
    || setweight(to_tsvector('english', coalesce((
        SELECT string_agg(m.body, ' ') FROM tickets_message m
        WHERE m.ticket_id = t.id AND NOT m.internal), '')), 'C')"""
REFRESH_SEARCH_VECTOR = f"""
UPDATE tickets_ticket AS t SET search_vector = {_SEARCH_VECTOR}
WHERE t.id = %s
"""  # noqa: S608 - constant text only
TOUCH_AND_REFRESH_SEARCH_VECTOR = f"""
UPDATE tickets_ticket AS t SET search_vector = {_SEARCH_VECTOR},
    updated_at = %(now)s,
    first_response_at = coalesce(t.first_response_at, %(first_response_at)s)
WHERE t.id = %(id)s
"""  # noqa: S608 - constant text only


# Why: advisory locks (no ORM form): every rank writer holds the project's rank space shared, a
# rebalance batch exclusive, until the transaction ends (ADR 0003); no figure.
RANK_SPACE_SHARED = "SELECT pg_advisory_xact_lock_shared(%s, %s)"
RANK_SPACE_EXCLUSIVE = "SELECT pg_advisory_xact_lock(%s, %s)"


# Why: a rebalance batch rewrites up to REBALANCE_BATCH ranks in one UPDATE ... FROM (VALUES)
# (bulk_update would write a CASE per row over the same ids); no figure.
def write_ranks(pairs: int) -> str:
    values = ", ".join(["(%s, %s)"] * pairs)
    return (
        'UPDATE tickets_ticket AS t SET rank = v.rank COLLATE "C" '  # noqa: S608 - placeholders only
        f"FROM (VALUES {values}) AS v(id, rank) "
        "WHERE t.id = v.id::bigint AND t.project_id = %s"
    )


# Why: the count deltas folded in one statement (DELETE ... RETURNING into the INSERT): atomic
# beside writers and a second compaction (the DELETE takes only rows its snapshot sees) with no
# rows through Python; no figure.
COMPACT_COUNTS = """
WITH folded AS (
    DELETE FROM tickets_ticketcountdelta RETURNING project_id, status_id, n
)
INSERT INTO tickets_ticketcountdelta (project_id, status_id, n)
SELECT project_id, status_id, sum(n) FROM folded GROUP BY 1, 2 HAVING sum(n) <> 0
"""
