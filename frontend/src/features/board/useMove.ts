// The one move path (pointer, keyboard, the Move menu): refuse a full column before any request,
// move the card at once, send one PATCH with the neighbours, and on refusal put the card where the
// server says it is, with the API's message.
import { useCallback } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { boardKey, moveTicket } from "../../api/board";
import { ApiError, messageOf } from "../../api/errors";
import type { Board } from "../../api/types";
import { newMutationId } from "../../realtime/ownMutations";
import { showToast } from "../../ui/toast";
import { locate, neighboursAt, placeAtServerPosition, placeTicket, wipRefuses } from "./model";

export type MoveOutcome = "moved" | "refused" | "unchanged";

export function wipMessage(name: string, max: number | null): string {
  return `${name} is at its WIP limit (${max ?? 0}); the card stays where it was.`;
}

export function useMove(project: string) {
  const client = useQueryClient();
  return useCallback(
    (ticketId: number, columnId: number, index: number): MoveOutcome => {
      const key = boardKey(project);
      const board = client.getQueryData<Board>(key);
      if (!board) return "unchanged";
      const from = locate(board, ticketId);
      const target = board.columns.find((c) => c.id === columnId);
      if (!from || !target) return "unchanged";
      if (wipRefuses(target, from.columnId)) {
        showToast(wipMessage(target.name, target.max_limit), "error");
        return "refused";
      }
      const sameColumn = from.columnId === columnId;
      const othersLength = target.tickets.length - (sameColumn ? 1 : 0);
      const at = Math.max(0, Math.min(index, othersLength));
      if (sameColumn && at === from.index) return "unchanged";
      const status = sameColumn
        ? from.ticket.status
        : (target.statuses[0]?.key ?? from.ticket.status);
      const { before_id, after_id } = neighboursAt(target, ticketId, at);
      const moved = { ...from.ticket, status };
      client.setQueryData<Board>(key, placeTicket(board, moved, columnId, at));
      const mutationId = newMutationId();
      moveTicket(ticketId, { status, before_id, after_id, client_mutation_id: mutationId }).then(
        (saved) =>
          client.setQueryData<Board>(key, (current) => {
            const now = current && locate(current, ticketId);
            if (!current || !now || now.ticket.status !== status) return current;
            return placeTicket(current, { ...now.ticket, ...saved }, now.columnId, now.index);
          }),
        (error: unknown) => {
          client.setQueryData<Board>(key, (current) => {
            if (!current) return current;
            const serverSays = error instanceof ApiError ? error.details.current : undefined;
            if (serverSays && typeof serverSays === "object") {
              return placeAtServerPosition(
                current,
                from.ticket,
                serverSays as Record<string, never>,
              );
            }
            return placeTicket(current, from.ticket, from.columnId, from.index);
          });
          showToast(messageOf(error), "error");
        },
      );
      return "moved";
    },
    [client, project],
  );
}
