// The one table from a board event to a change of the cached board. Every event, live or replayed,
// goes through `applyBoardEvent`; nothing else patches the board from the socket.
import type { Board, BoardEvent, Ticket } from "../api/types";
import { removeTicket, upsertByRank } from "../features/board/model";

/** `reload`: the event cannot be applied from its payload (refetch the board). */
export type Applied = { board: Board; reload: boolean };

type Handler = (board: Board, data: Record<string, unknown>) => Applied;

const keep: Handler = (board) => ({ board, reload: false });
const reload: Handler = (board) => ({ board, reload: true });

const upsert =
  (created: boolean): Handler =>
  (board, data) => {
    if (data.is_archived === true)
      return { board: removeTicket(board, Number(data.id)), reload: false };
    const { board: next, known } = upsertByRank(board, data as unknown as Ticket);
    // A change to a ticket past the loaded pages may have left another column: only the server
    // knows that column's count now.
    return { board: next, reload: !created && !known };
  };

export const EVENT_TABLE: Record<string, Handler> = {
  "ticket.created": upsert(true),
  "ticket.updated": upsert(false),
  "ticket.moved": upsert(false),
  "ticket.archived": (board, data) => ({
    board: removeTicket(board, Number(data.id)),
    reload: false,
  }),
  "ticket.commented": keep,
  "column.created": reload,
  "column.updated": reload,
  "column.deleted": reload,
  "column.reordered": reload,
  "board.reranked": reload,
};

export function applyBoardEvent(board: Board, event: BoardEvent): Applied {
  const data = event.data ?? {};
  let handler = EVENT_TABLE[event.type];
  // SLA and escalation events that carry the ticket (id + rank) update its card like an update.
  if (!handler && event.type.includes(".") && "id" in data && "rank" in data && "status" in data)
    handler = upsert(false);
  const applied = (handler ?? keep)(board, data);
  return { board: { ...applied.board, seq: event.seq }, reload: applied.reload };
}
