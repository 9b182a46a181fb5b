// The queue's table: a checkbox, the key as a link, the fields, the SLA chip from the shared clock.
// One row is "focused" (j/k); changed rows carry a visible "Updated" mark (not colour alone).
import { useEffect, useRef, type MouseEvent } from "react";
import type { TicketRow } from "../../api/types";
import { SlaBadge } from "../board/SlaBadge";

interface Props {
  rows: TicketRow[];
  selected: ReadonlySet<number>;
  changed: ReadonlySet<number>;
  focused: number;
  ordering: string;
  onFocus(index: number): void;
  onSelect(id: number, shift: boolean): void;
  onOpen(key: string): void;
}

const SORTED: Record<string, string> = {
  updated_at: "Updated",
  priority: "Priority",
  sla_due_at: "SLA",
};

function ariaSort(ordering: string, column: string): "ascending" | "descending" | undefined {
  if (SORTED[ordering.replace(/^-/, "")] !== column) return undefined;
  return ordering.startsWith("-") ? "descending" : "ascending";
}

const formatter = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

export function QueueTable(props: Props) {
  const { rows, selected, changed, focused, ordering } = props;
  const body = useRef<HTMLTableSectionElement>(null);
  useEffect(() => {
    if (focused < 0) return;
    const row = body.current?.rows[focused];
    if (row && !row.contains(document.activeElement)) row.focus();
  }, [focused]);
  const headers = [
    "Key",
    "Title",
    "Status",
    "Priority",
    "Category",
    "Assignee",
    "Requester",
    "SLA",
    "Updated",
  ];
  return (
    <div className="table-wrap">
      <table className="queue-table" aria-label="Tickets" aria-rowcount={rows.length + 1}>
        <thead>
          <tr>
            {headers.map((h) => (
              <th key={h} scope="col" aria-sort={ariaSort(ordering, h)}>
                {h}
              </th>
            ))}
          </tr>
        </thead>
        <tbody ref={body}>
          {rows.map((t, index) => {
            const isChanged = changed.has(t.id);
            return (
              <tr
                key={t.id}
                tabIndex={index === Math.max(focused, 0) ? 0 : -1}
                aria-selected={selected.has(t.id)}
                className={[index === focused ? "focused" : "", isChanged ? "changed" : ""].join(
                  " ",
                )}
                onFocus={() => index !== focused && props.onFocus(index)}
              >
                <td className="col-key">
                  <input
                    type="checkbox"
                    aria-label={`Select ${t.key}`}
                    checked={selected.has(t.id)}
                    onClick={(e: MouseEvent<HTMLInputElement>) => props.onSelect(t.id, e.shiftKey)}
                    onChange={() => undefined}
                  />
                  <a
                    href={`/tickets/${t.key}`}
                    onClick={(e) => {
                      if (e.metaKey || e.ctrlKey || e.shiftKey || e.button !== 0) return;
                      e.preventDefault();
                      props.onOpen(t.key);
                    }}
                  >
                    {t.key}
                  </a>
                  {isChanged && <span className="badge changed-mark">Updated</span>}
                </td>
                <td className="col-title">{t.title}</td>
                <td>
                  <span
                    className="status-dot"
                    style={{ background: t.status_color }}
                    aria-hidden="true"
                  />
                  {t.status_name ?? t.status}
                </td>
                <td className={`prio prio-${t.priority}`}>{t.priority}</td>
                <td>{t.category || "—"}</td>
                <td>{t.assignee ?? <span className="muted">Unassigned</span>}</td>
                <td>{t.requester ?? "—"}</td>
                <td className="col-sla">
                  {t.sla && t.sla.state !== "no_sla" ? (
                    <SlaBadge sla={t.sla} firstResponded={t.first_response_at !== null} />
                  ) : (
                    <span className="muted">No SLA</span>
                  )}
                </td>
                <td>
                  <time dateTime={t.updated_at}>{formatter.format(new Date(t.updated_at))}</time>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
