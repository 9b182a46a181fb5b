// What a screen reader hears while a card is dragged: the ticket, the column and the position.
import type { Announcements } from "@dnd-kit/core";
import type { Board } from "../../api/types";
import { locate } from "./model";

export interface DropTarget {
  columnId: number;
  index: number;
}

export function dragAnnouncements(
  getBoard: () => Board | undefined,
  target: (overId: string | number | undefined, activeTicket: number) => DropTarget | null,
): Announcements {
  const ticketOf = (id: string | number) => Number(String(id).replace(/^t-/, ""));
  const describe = (ticketId: number, spot: DropTarget | null) => {
    const board = getBoard();
    const found = board && locate(board, ticketId);
    if (!board || !found) return null;
    const column = board.columns.find((c) => c.id === (spot?.columnId ?? found.columnId));
    if (!column) return null;
    const index = spot?.index ?? found.index;
    const total = column.tickets.length + (column.id === found.columnId ? 0 : 1);
    return {
      key: found.ticket.key,
      title: found.ticket.title,
      column: column.name,
      position: index + 1,
      total,
    };
  };
  return {
    onDragStart({ active }) {
      const d = describe(ticketOf(active.id), null);
      return d
        ? `Picked up ${d.key} ${d.title}, in ${d.column}, position ${d.position} of ${d.total}.`
        : undefined;
    },
    onDragOver({ active, over }) {
      if (over?.id === active.id) return undefined; // still in its own place: nothing new to say
      const id = ticketOf(active.id);
      const d = describe(id, target(over?.id, id));
      if (!over) return d ? `${d.key} is no longer over a column.` : undefined;
      return d ? `${d.key} is over ${d.column}, position ${d.position} of ${d.total}.` : undefined;
    },
    onDragEnd({ active, over }) {
      const id = ticketOf(active.id);
      const d = describe(id, target(over?.id, id));
      return d
        ? `${d.key} dropped in ${d.column}, position ${d.position} of ${d.total}.`
        : undefined;
    },
    onDragCancel({ active }) {
      const d = describe(ticketOf(active.id), null);
      return d
        ? `Moving ${d.key} cancelled; it stays in ${d.column}, position ${d.position}.`
        : undefined;
    },
  };
}
