"""The SLA app's hand-written SQL. Each statement says why it is not ORM, with its figure.

Values are always parameters; only the module's constants are ever written into the text.
"""

from __future__ import annotations

_FR_RUN = (
    "t.paused_at IS NULL AND t.stopped_at IS NULL AND t.policy_id IS NOT NULL "
    "AND t.fr_met_at IS NULL AND t.fr_due_at IS NOT NULL"
)
_RES_RUN = _FR_RUN.replace("fr_", "res_")
_ISO = '\'YYYY-MM-DD"T"HH24:MI:SS"Z"\''

# Why: the SLA scan's set-based batch: one statement reads the due rows through the partial index
# with FOR UPDATE SKIP LOCKED, inserts warnings/breaches and escalation levels with ON CONFLICT DO
# NOTHING and moves each row's next_check_at on; at 1M open tickets with 1000 due a pass took p50
# 36.3 ms, the marking statement 34.0 ms (bench/results/sla.json, target 50 ms). Only module
# constants are interpolated.
SCAN = f"""
WITH f AS MATERIALIZED (
    SELECT s.*,
        (s.fr_run AND s.fr_warned_at IS NULL AND s.fr_warn_at <= %(now)s) AS fr_warn,
        (s.fr_run AND s.fr_breached_at IS NULL AND s.fr_due_at <= %(now)s) AS fr_breach,
        (s.fr_run AND s.fr_due_at <= %(now)s AND s.fr_next_esc_at <= %(now)s) AS fr_esc,
        (s.res_run AND s.res_warned_at IS NULL AND s.res_warn_at <= %(now)s) AS res_warn,
        (s.res_run AND s.res_breached_at IS NULL AND s.res_due_at <= %(now)s) AS res_breach,
        (s.res_run AND s.res_due_at <= %(now)s AND s.res_next_esc_at <= %(now)s) AS res_esc
    FROM (
        SELECT t.ticket_id, t.project_id, t.cycle, t.policy_id, t.policy_version,
            t.fr_warn_at, t.fr_due_at, t.fr_warned_at, t.fr_breached_at, t.fr_next_esc_at,
            t.fr_esc_level, t.fr_target_seconds,
            t.res_warn_at, t.res_due_at, t.res_warned_at, t.res_breached_at, t.res_next_esc_at,
            t.res_esc_level, t.res_target_seconds,
            ({_FR_RUN}) AS fr_run, ({_RES_RUN}) AS res_run
        FROM sla_ticketsla t
        WHERE t.next_check_at <= %(now)s
        ORDER BY t.next_check_at
        LIMIT %(batch)s
        FOR UPDATE SKIP LOCKED
    ) s
),
fired AS (
    SELECT ticket_id, project_id, cycle, policy_id, policy_version,
           'warned' AS kind, 'first_response' AS metric, fr_warn_at AS at, fr_due_at AS due,
           'first response near breach' AS reason
    FROM f WHERE fr_warn
    UNION ALL
    SELECT ticket_id, project_id, cycle, policy_id, policy_version,
           'breached', 'first_response', fr_due_at, fr_due_at,
           'first response target of ' || (fr_target_seconds / 60) || ' business minutes passed'
    FROM f WHERE fr_breach
    UNION ALL
    SELECT ticket_id, project_id, cycle, policy_id, policy_version,
           'warned', 'resolution', res_warn_at, res_due_at, 'resolution near breach'
    FROM f WHERE res_warn
    UNION ALL
    SELECT ticket_id, project_id, cycle, policy_id, policy_version,
           'breached', 'resolution', res_due_at, res_due_at,
           'resolution target of ' || (res_target_seconds / 60) || ' business minutes passed'
    FROM f WHERE res_breach
),
ev AS (
    INSERT INTO sla_slaevent (ticket_id, project_id, kind, metric, cycle, level, at, recorded_at,
                              reason, policy_id, policy_version, actor_id, data, delivered_at)
    SELECT ticket_id, project_id, kind, metric, cycle, NULL, at, %(recorded)s, reason, policy_id,
           policy_version, NULL,
           jsonb_build_object('due_at', to_char(due AT TIME ZONE 'UTC', {_ISO})), NULL
    FROM fired
    ON CONFLICT (ticket_id, metric, cycle, kind) WHERE kind IN ('warned', 'breached') DO NOTHING
    RETURNING id, kind
),
levels AS (
    SELECT ticket_id, project_id, cycle, policy_id, 'first_response' AS metric,
           fr_esc_level AS lvl, fr_next_esc_at AS at
    FROM f WHERE fr_esc
    UNION ALL
    SELECT ticket_id, project_id, cycle, policy_id, 'resolution', res_esc_level, res_next_esc_at
    FROM f WHERE res_esc
),
esc AS (
    INSERT INTO sla_slaescalation (ticket_id, project_id, metric, cycle, level, due_at, role,
                                   reassign, manual, actor_id, reason, created_at, processed_at,
                                   outcome, notified, reassigned_to_id)
    SELECT l.ticket_id, l.project_id, l.metric, l.cycle, l.lvl + 1, l.at,
           coalesce(p.escalation_chain -> l.lvl::int ->> 'role', 'admin'),
           coalesce((p.escalation_chain -> l.lvl::int ->> 'reassign')::boolean, false),
           false, NULL, 'automatic', %(recorded)s, NULL, '', '[]'::jsonb, NULL
    FROM levels l LEFT JOIN sla_slapolicy p ON p.id = l.policy_id
    ON CONFLICT (ticket_id, metric, cycle, level) DO NOTHING
    RETURNING id
),
upd AS (
    UPDATE sla_ticketsla t SET
        fr_warned_at = CASE WHEN f.fr_warn THEN %(now)s ELSE t.fr_warned_at END,
        fr_breached_at = CASE WHEN f.fr_breach THEN f.fr_due_at ELSE t.fr_breached_at END,
        fr_next_esc_at = CASE WHEN f.fr_esc THEN NULL ELSE t.fr_next_esc_at END,
        res_warned_at = CASE WHEN f.res_warn THEN %(now)s ELSE t.res_warned_at END,
        res_breached_at = CASE WHEN f.res_breach THEN f.res_due_at ELSE t.res_breached_at END,
        res_next_esc_at = CASE WHEN f.res_esc THEN NULL ELSE t.res_next_esc_at END,
        ever_breached = t.ever_breached OR f.fr_breach OR f.res_breach,
        next_check_at = LEAST(
            CASE WHEN f.fr_run AND f.fr_warned_at IS NULL AND NOT f.fr_warn THEN f.fr_warn_at END,
            CASE WHEN f.fr_run AND f.fr_breached_at IS NULL AND NOT f.fr_breach THEN f.fr_due_at END,
            CASE WHEN f.fr_run AND NOT f.fr_esc THEN f.fr_next_esc_at END,
            CASE WHEN f.res_run AND f.res_warned_at IS NULL AND NOT f.res_warn THEN f.res_warn_at END,
            CASE WHEN f.res_run AND f.res_breached_at IS NULL AND NOT f.res_breach THEN f.res_due_at END,
            CASE WHEN f.res_run AND NOT f.res_esc THEN f.res_next_esc_at END
        ),
        updated_at = %(recorded)s
    FROM f WHERE t.ticket_id = f.ticket_id
    RETURNING 1
)
SELECT
    -- The marking need not wait for its WAL flush: see mark_due_batch.
    set_config('synchronous_commit', 'off', true),
    (SELECT count(*) FROM upd),
    (SELECT count(*) FROM ev WHERE kind = 'warned'),
    (SELECT count(*) FROM ev WHERE kind = 'breached'),
    (SELECT coalesce(array_agg(id), '{{}}') FROM ev),
    (SELECT coalesce(array_agg(id), '{{}}') FROM esc)
"""  # noqa: S608

# Why: the scan slot claimed with INSERT ... ON CONFLICT DO NOTHING (a twin invocation waits on
# ours, then finds the slot taken), with synchronous_commit off for the transaction in the same
# round trip (set_config(..., true) is SET LOCAL); no figure of its own.
CLAIM_SLOT = (
    "INSERT INTO sla_slascanrun (slot, started_at, scanned, warned, breached, escalations,"
    " batches) SELECT %s, %s, 0, 0, 0, 0, 0"
    " FROM (SELECT set_config('synchronous_commit', 'off', true)) AS cfg"
    " ON CONFLICT (slot) DO NOTHING RETURNING id"
)
