// Bulk actions on the selected rows through POST tickets/bulk/; the per-item outcome in words.
import { useState } from "react";
import { useQuery } from "@tanstack/react-query";
import { statusesQuery, useBulkAction } from "../../api/queue";
import { membersQuery } from "../../api/board";
import { messageOf } from "../../api/errors";
import type { BulkAction, TicketRow } from "../../api/types";
import { bulkSummary } from "./bulkSummary";

interface Props {
  selected: ReadonlySet<number>;
  rows: TicketRow[];
  project: string | null;
  onDone(): void;
}

const LABELS: Record<BulkAction, string> = {
  assign: "Assign to",
  set_status: "Set status",
  set_priority: "Set priority",
  archive: "Archive",
};

export function BulkBar({ selected, rows, project, onDone }: Props) {
  const [action, setAction] = useState<BulkAction>("assign");
  const [value, setValue] = useState("");
  const [outcome, setOutcome] = useState<{ text: string; failed: boolean } | null>(null);
  const bulk = useBulkAction();
  const statuses = useQuery(statusesQuery).data ?? [];
  const members =
    useQuery({ ...membersQuery(project ?? ""), enabled: project !== null }).data ?? [];
  const keys = new Map(rows.map((r) => [r.id, r.key]));
  const options: [string, string][] =
    action === "assign"
      ? [
          ["", "Nobody"],
          ...members
            .filter((m) => m.role !== "customer")
            .map((m): [string, string] => [m.username, m.full_name || m.username]),
        ]
      : action === "set_status"
        ? statuses.map((s): [string, string] => [s.key, s.name])
        : action === "set_priority"
          ? ["critical", "high", "medium", "low"].map((p): [string, string] => [p, p])
          : [];

  async function apply() {
    const ids = [...selected];
    const chosen =
      action === "archive"
        ? undefined
        : action === "assign"
          ? value || null
          : value || options[0]?.[0];
    try {
      const { results } = await bulk.mutateAsync({ ids, action, value: chosen });
      const text = bulkSummary(results, (id) => keys.get(Number(id)) ?? `#${id}`);
      setOutcome({ text, failed: results.some((r) => !r.ok) });
      onDone();
    } catch (error) {
      setOutcome({ text: messageOf(error), failed: true });
    }
  }

  return (
    <div className="bulk-bar" role="group" aria-label="Bulk actions">
      {selected.size > 0 && (
        <>
          <span>{selected.size} selected</span>
          <label>
            Action
            <select
              aria-label="Action"
              value={action}
              onChange={(e) => (setAction(e.target.value as BulkAction), setValue(""))}
            >
              {Object.entries(LABELS).map(([key, label]) => (
                <option key={key} value={key}>
                  {label}
                </option>
              ))}
            </select>
          </label>
          {action !== "archive" && (
            <label>
              Value
              {action === "assign" && !project ? (
                <input
                  aria-label="Value"
                  value={value}
                  onChange={(e) => setValue(e.target.value)}
                  placeholder="username"
                  size={10}
                />
              ) : (
                <select aria-label="Value" value={value} onChange={(e) => setValue(e.target.value)}>
                  {options.map(([v, label]) => (
                    <option key={v} value={v}>
                      {label}
                    </option>
                  ))}
                </select>
              )}
            </label>
          )}
          <button
            type="button"
            className="primary"
            disabled={bulk.isPending}
            onClick={() => void apply()}
          >
            Apply to {selected.size}
          </button>
        </>
      )}
      <p role="status" className={outcome?.failed ? "bulk-outcome failed" : "bulk-outcome"}>
        {outcome?.text}
      </p>
    </div>
  );
}
