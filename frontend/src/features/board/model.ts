// Pure operations on the board held in the query cache: find, place, remove, neighbours. No I/O.
import type { Board, BoardColumn, Ticket } from "../../api/types";

export interface Position {
  columnId: number;
  index: number;
}

export function columnOfStatus(board: Board, status: string): BoardColumn | undefined {
  return board.columns.find((c) => c.statuses.some((s) => s.key === status));
}

export function locate(board: Board, ticketId: number): (Position & { ticket: Ticket }) | null {
  for (const column of board.columns) {
    const index = column.tickets.findIndex((t) => t.id === ticketId);
    if (index >= 0) return { columnId: column.id, index, ticket: column.tickets[index]! };
  }
  return null;
}

function withLimits(column: BoardColumn, count: number): BoardColumn {
  return {
    ...column,
    ticket_count: Math.max(0, count),
    is_over_limit: column.max_limit !== null && count > column.max_limit,
    is_under_limit: column.min_limit !== null && count < column.min_limit,
  };
}

/** The board without the ticket (its column's count lowered when it was there). */
export function removeTicket(board: Board, ticketId: number): Board {
  const at = locate(board, ticketId);
  if (!at) return board;
  return {
    ...board,
    columns: board.columns.map((c) =>
      c.id === at.columnId
        ? withLimits(
            { ...c, tickets: c.tickets.filter((t) => t.id !== ticketId) },
            c.ticket_count - 1,
          )
        : c,
    ),
  };
}

/** Put the ticket at an index of a column (counting it in), after removing it from anywhere. */
export function placeTicket(board: Board, ticket: Ticket, columnId: number, index: number): Board {
  const without = removeTicket(board, ticket.id);
  return {
    ...without,
    columns: without.columns.map((c) => {
      if (c.id !== columnId) return c;
      const tickets = c.tickets.slice();
      tickets.splice(Math.max(0, Math.min(index, tickets.length)), 0, ticket);
      return withLimits({ ...c, tickets }, c.ticket_count + 1);
    }),
  };
}

/** Where a ticket of this rank belongs in a loaded column; null when it sorts past the loaded page. */
export function indexForRank(column: BoardColumn, rank: string, id: number): number | null {
  const index = column.tickets.findIndex((t) => t.rank > rank || (t.rank === rank && t.id > id));
  if (index >= 0) return index;
  return column.next === null ? column.tickets.length : null;
}

/** Place by the server's rank (events, refusals); a ticket beyond the loaded page is only counted. */
export function upsertByRank(board: Board, ticket: Ticket): { board: Board; known: boolean } {
  const before = locate(board, ticket.id);
  const merged: Ticket = before ? { ...before.ticket, ...ticket } : ticket;
  const column = columnOfStatus(board, merged.status);
  const without = removeTicket(board, ticket.id);
  if (!column) return { board: without, known: before !== null };
  const target = without.columns.find((c) => c.id === column.id)!;
  const index = indexForRank(target, merged.rank, merged.id);
  if (index !== null)
    return { board: placeTicket(without, merged, column.id, index), known: before !== null };
  return {
    board: {
      ...without,
      columns: without.columns.map((c) =>
        c.id === column.id ? withLimits(c, c.ticket_count + 1) : c,
      ),
    },
    known: before !== null,
  };
}

/** The neighbours the server needs for a card shown at `index` of `column` (card itself excluded). */
export function neighboursAt(
  column: BoardColumn,
  ticketId: number,
  index: number,
): { before_id: number | null; after_id: number | null } {
  const others = column.tickets.filter((t) => t.id !== ticketId);
  const at = Math.max(0, Math.min(index, others.length));
  return { before_id: others[at - 1]?.id ?? null, after_id: others[at]?.id ?? null };
}

/** A column whose enforced WIP limit is reached refuses cards from other columns. */
export function wipRefuses(column: BoardColumn, fromColumnId: number): boolean {
  return (
    column.id !== fromColumnId &&
    column.enforce_wip &&
    column.max_limit !== null &&
    column.ticket_count >= column.max_limit
  );
}

/** Put a ticket where a refusal's details say it is: below `before`, above `after`, else by rank. */
export function placeAtServerPosition(
  board: Board,
  ticket: Ticket,
  current: {
    status?: string;
    column?: number | null;
    before?: number | null;
    after?: number | null;
  },
): Board {
  const status = current.status ?? ticket.status;
  const restored: Ticket = { ...ticket, status };
  const columnId = current.column ?? columnOfStatus(board, status)?.id;
  const without = removeTicket(board, ticket.id);
  const column = without.columns.find((c) => c.id === columnId);
  if (!column) return upsertByRank(board, restored).board;
  const below =
    current.before != null ? column.tickets.findIndex((t) => t.id === current.before) : -1;
  if (below >= 0) return placeTicket(without, restored, column.id, below + 1);
  const above =
    current.after != null ? column.tickets.findIndex((t) => t.id === current.after) : -1;
  if (above >= 0) return placeTicket(without, restored, column.id, above);
  if (current.before == null) return placeTicket(without, restored, column.id, 0);
  return upsertByRank(board, restored).board;
}
