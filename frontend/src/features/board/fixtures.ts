// Small boards for unit tests.
import type { Board, BoardColumn, Ticket } from "../../api/types";

export function ticket(id: number, rank: string, status = "new"): Ticket {
  return {
    id,
    key: `DESK-${id}`,
    project: "DESK",
    title: `T${id}`,
    status,
    rank,
    priority: "medium",
    category: "general",
    assignee: null,
  };
}

export function column(
  id: number,
  statuses: string[],
  tickets: Ticket[],
  extra: Partial<BoardColumn> = {},
): BoardColumn {
  return {
    id,
    name: `C${id}`,
    order: id,
    statuses: statuses.map((key) => ({ key, name: key, category: "todo" })),
    min_limit: null,
    max_limit: null,
    enforce_wip: false,
    is_collapsed: false,
    ticket_count: tickets.length,
    is_over_limit: false,
    is_under_limit: false,
    tickets,
    next: null,
    ...extra,
  };
}

export function board(columns: BoardColumn[], seq = 10): Board {
  return { project: { key: "DESK", name: "Desk" }, seq, columns };
}
