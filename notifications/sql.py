"""The notifications app's hand-written SQL. Each statement says why it is not ORM, with its figure.

Values are always parameters; only model metadata (and the two outbox table names) is ever
written into the text.
"""

from __future__ import annotations

# --- the board event log (notifications.services) ------------------------------------------------
# Why: the gap-free seq: the counter UPSERT (INSERT ... ON CONFLICT DO UPDATE ... RETURNING) keeps
# the counter row locked until commit, so events commit in seq order, and the event row is written
# in the same statement (ADR 0009); no figure of its own.
RECORD_EVENT = """
WITH next AS (
    INSERT INTO notifications_boardeventcounter (project_id, last_seq) VALUES (%s::bigint, 1)
    ON CONFLICT (project_id) DO UPDATE
    SET last_seq = notifications_boardeventcounter.last_seq + 1
    RETURNING last_seq
)
INSERT INTO notifications_boardevent
    (project_id, seq, type, data, ticket_id, actor, client_mutation_id, created_at)
SELECT %s::bigint, next.last_seq, %s::text, %s::jsonb, %s::bigint, %s::jsonb, %s::text, now()
FROM next
RETURNING id, seq, created_at
"""

# Why: as RECORD_EVENT for n events: one UPSERT takes the next n seqs and the rows arrive as one
# JSON document unpacked by jsonb_to_recordset (see BULK_INSERT); no figure of its own.
RECORD_EVENTS = """
WITH next AS (
    INSERT INTO notifications_boardeventcounter (project_id, last_seq)
    VALUES (%(project)s, %(n)s)
    ON CONFLICT (project_id) DO UPDATE
    SET last_seq = notifications_boardeventcounter.last_seq + %(n)s
    RETURNING last_seq
)
INSERT INTO notifications_boardevent (project_id, seq, type, data, ticket_id, created_at)
SELECT %(project)s, next.last_seq - %(n)s + v.ord, v.type, v.data, v.ticket_id,
       now()
FROM next, ROWS FROM (jsonb_to_recordset(%(events)s::jsonb)
                      AS (type text, data jsonb, ticket_id bigint))
     WITH ORDINALITY AS v(type, data, ticket_id, ord)
ORDER BY v.ord
RETURNING id, seq, created_at
"""


# --- bulk inserts (notifications.bulk) -----------------------------------------------------------
# Why: thousands of JSON-carrying rows as ONE jsonb parameter unpacked by jsonb_to_recordset:
# bulk_create's array parameters make psycopg quote every element of a text array in Python (a
# regex per element), which for JSON documents cost more than the insert (docs/events.md); no
# figure. `columns`/`spec`/`pk` are quoted model metadata.
def bulk_insert(*, table: str, columns: str, spec: str, pk: str, ignore_conflicts: bool) -> str:
    conflict = " ON CONFLICT DO NOTHING" if ignore_conflicts else ""
    return (
        f"INSERT INTO {table} ({columns}) "  # noqa: S608 - model metadata only
        f"SELECT {columns} FROM ROWS FROM (jsonb_to_recordset(%s::jsonb) AS ({spec})) "
        f"WITH ORDINALITY AS x({columns}, _ord) ORDER BY _ord{conflict} "
        f"RETURNING {pk}"
    )


# --- the fan-out of an event to people (notifications.dispatch) ----------------------------------
# Why: each event travels once (one JSON document) and PostgreSQL makes a row per recipient, in
# one statement for any number of events and people (see bulk_insert); no figure.
FAN_OUT_NOTIFICATIONS = """
INSERT INTO notifications_notification
    (user_id, event_id, kind, project_id, ticket_id, actor_id, title, data, read_at, created_at)
SELECT u.user_id::bigint, e.event_id, e.kind, e.project_id, e.ticket_id, e.actor_id, e.title,
       e.data, NULL, %(now)s
FROM ROWS FROM (jsonb_to_recordset(%(rows)s::jsonb) AS (event_id uuid, kind text,
         project_id bigint, ticket_id bigint, actor_id bigint, title text, data jsonb,
         users jsonb)) WITH ORDINALITY AS e(event_id, kind, project_id, ticket_id, actor_id,
         title, data, users, ord)
CROSS JOIN LATERAL jsonb_array_elements_text(e.users) WITH ORDINALITY AS u(user_id, n)
ORDER BY e.ord, u.n
RETURNING id
"""

# Why: as FAN_OUT_NOTIFICATIONS, for the e-mail outbox rows; no figure.
FAN_OUT_EMAILS = """
INSERT INTO notifications_emaildelivery
    (event_id, user_id, kind, to_email, subject, context, status, attempts, next_attempt_at,
     relay_after, last_error, sent_at, created_at)
SELECT e.event_id, (t.r ->> 'user_id')::bigint, e.kind, t.r ->> 'to_email', e.subject,
       e.context || jsonb_build_object('recipient', t.r -> 'recipient', 'reasons', t.r -> 'reasons'),
       'pending', 0, %(now)s, %(relay_after)s, '', NULL, %(now)s
FROM ROWS FROM (jsonb_to_recordset(%(rows)s::jsonb) AS (event_id uuid, kind text, subject text,
         context jsonb, "to" jsonb)) WITH ORDINALITY AS e(event_id, kind, subject, context, "to",
         ord)
CROSS JOIN LATERAL jsonb_array_elements(e."to") WITH ORDINALITY AS t(r, n)
ORDER BY e.ord, t.n
RETURNING id
"""


# --- recipients (notifications.recipients) -------------------------------------------------------
# Why: every ticket event (moves included) reads its candidates; one prepared statement
# (config/rawsql.py) instead of an ORM query with correlated subqueries to compile on each event
# (ADR 0005); no figure of its own. `user`/`preference` are ModelColumns select lists.
def candidates(*, user: str, preference: str) -> str:
    return f"""
SELECT {user}, lower(u.username),
       (SELECT m.role FROM tickets_membership m
        WHERE m.project_id = %(project)s AND m.user_id = u.id),
       w.notify_in_app, w.notify_email, {preference}
FROM helpline_user u
LEFT JOIN tickets_watcher w ON w.ticket_id = %(ticket)s AND w.user_id = u.id
LEFT JOIN notifications_notificationpreference np ON np.user_id = u.id
WHERE u.is_active
  AND (w.user_id IS NOT NULL OR u.id = ANY(%(ids)s) OR lower(u.username) = ANY(%(mentions)s))
"""  # noqa: S608 - model metadata only, values are parameters


# --- the outboxes (notifications.relay, notifications.webhooks) ----------------------------------
# Why: a SKIP LOCKED batch claim: pending rows re-stamped in one UPDATE so two relays never hand
# out the same row, and neither waits on the other (no ORM form for SKIP LOCKED in an UPDATE's
# subquery with RETURNING); no figure. `table` is one of the two outbox tables (OutboxTable).
def claim_for_relay(table: str) -> str:
    return f"""
        UPDATE {table} SET relay_after = clock_timestamp() + make_interval(secs => %(grace)s)
        WHERE id IN (
            SELECT id FROM {table}
            WHERE status = 'pending' AND relay_after <= clock_timestamp()
            ORDER BY relay_after
            LIMIT %(limit)s
            FOR UPDATE SKIP LOCKED
        )
        RETURNING id
    """  # noqa: S608 - the table is one of two constants, never input


# Why: one statement per event writes a delivery for every matching active endpoint (nothing to
# send when a project has none); the outbox step adds p50 0.12 ms to a move with three endpoints
# (bench/results/webhooks.json, write_path_move).
WEBHOOK_DELIVERIES = """
INSERT INTO notifications_webhookdelivery
    (webhook_id, message_id, event_type, payload, status, attempts, run_attempts,
     next_attempt_at, relay_after, response_excerpt, error, created_at)
SELECT w.id, %(msg_id)s::text, %(kind)s::text, %(body)s::text, 'pending', 0, 0,
       now(), now() + make_interval(secs => %(grace)s::float8), '', '', now()
FROM notifications_webhook w
WHERE w.project_id = %(project_id)s::bigint AND w.is_active
  AND (%(kind)s::text = ANY(w.events) OR '*' = ANY(w.events))
RETURNING id
"""

# Why: as WEBHOOK_DELIVERIES for many events, which travel as one JSON document (see
# bulk_insert); no figure of its own.
WEBHOOK_DELIVERIES_MANY = """
INSERT INTO notifications_webhookdelivery
    (webhook_id, message_id, event_type, payload, status, attempts, run_attempts,
     next_attempt_at, relay_after, response_excerpt, error, created_at)
SELECT w.id, v.msg_id, v.kind, v.body, 'pending', 0, 0,
       now(), now() + make_interval(secs => %(grace)s), '', '', now()
FROM ROWS FROM (jsonb_to_recordset(%(events)s::jsonb)
                AS (project_id bigint, msg_id text, kind text, body text))
     WITH ORDINALITY AS v(project_id, msg_id, kind, body, ord)
JOIN notifications_webhook w ON w.project_id = v.project_id AND w.is_active
  AND (v.kind = ANY(w.events) OR '*' = ANY(w.events))
ORDER BY v.ord, w.id
RETURNING id
"""

# Why: a failed attempt extends the endpoint's failure run and reads the run back atomically in
# one UPDATE ... RETURNING (concurrent failures never read the same count; the ORM's update()
# returns a row count only); no figure.
WEBHOOK_FAILED = """
UPDATE notifications_webhook SET consecutive_failures = consecutive_failures + 1,
    failing_since = COALESCE(failing_since, clock_timestamp())
WHERE id = %s
RETURNING consecutive_failures, failing_since, is_active
"""
