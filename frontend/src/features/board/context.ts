import { createContext, useContext } from "react";
import type { Board } from "../../api/types";
import type { BoardLive } from "./useBoardLive";
import type { MoveOutcome } from "./useMove";

export interface BoardCtx {
  project: string;
  board: Board;
  live: BoardLive;
  move(ticketId: number, columnId: number, index: number): MoveOutcome;
  open(ticketId: number): void;
  fullName(username: string): string;
  activeId: number | null;
  /** The column a dragged card is over that refuses it (WIP), shown before any request. */
  refusingColumn: number | null;
}

export const BoardContext = createContext<BoardCtx | null>(null);

export function useBoardCtx(): BoardCtx {
  const ctx = useContext(BoardContext);
  if (!ctx) throw new Error("useBoardCtx outside a board");
  return ctx;
}
