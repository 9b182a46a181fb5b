// The audit trail, oldest first, 50 rows a page ("Load more" follows the cursor).
import { useInfiniteQuery } from "@tanstack/react-query";
import { auditQuery } from "../../api/ticket";
import type { AuditRow } from "../../api/ticketTypes";
import { messageOf } from "../../api/errors";

/** "status: new → open; priority: low → high" from an audit row's {old, new}. */
export function changeText(row: AuditRow): string {
  const oldValues = row.payload?.old ?? {};
  const newValues = row.payload?.new ?? {};
  const keys = [...new Set([...Object.keys(oldValues), ...Object.keys(newValues)])];
  const show = (v: unknown) =>
    v === null || v === undefined || v === ""
      ? "—"
      : typeof v === "object"
        ? JSON.stringify(v)
        : String(v);
  return keys
    .map((k) =>
      k in oldValues && k in newValues
        ? `${k}: ${show(oldValues[k])} → ${show(newValues[k])}`
        : `${k}: ${show(k in newValues ? newValues[k] : oldValues[k])}`,
    )
    .join("; ");
}

export function Activity({ ticketId }: { ticketId: number }) {
  const audit = useInfiniteQuery(auditQuery(ticketId));
  if (audit.isPending) return <p className="loading">Loading the activity…</p>;
  if (audit.isError)
    return (
      <div role="alert" className="inline-error">
        {messageOf(audit.error)}{" "}
        <button type="button" onClick={() => void audit.refetch()}>
          Retry
        </button>
      </div>
    );
  const rows = audit.data.pages.flatMap((p) => p.results);
  return (
    <div className="activity">
      <ol className="audit" aria-label="Audit trail">
        {rows.length === 0 && <li className="empty">Nothing recorded yet.</li>}
        {rows.map((row) => (
          <li key={row.id} className="audit-row">
            <time dateTime={row.created_at}>{new Date(row.created_at).toLocaleString()}</time>
            <span className="audit-actor">{row.actor ?? "system"}</span>
            <code className="audit-action">{row.action}</code>
            <span className="audit-change">{changeText(row)}</span>
          </li>
        ))}
      </ol>
      {audit.hasNextPage && (
        <button
          type="button"
          onClick={() => void audit.fetchNextPage()}
          disabled={audit.isFetchingNextPage}
        >
          {audit.isFetchingNextPage ? "Loading…" : "Load more"}
        </button>
      )}
    </div>
  );
}
