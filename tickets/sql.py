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
