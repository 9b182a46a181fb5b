import { createContext, useContext } from "react";
import type { Board } from "../../api/types";
import type { BoardLive, LiveIndicator } from "./useBoardLive";
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

/**
 * What a card reads, apart from the board: changes only with the drag, an indicator or presence,
 * so memoized cards of a column the board's change did not touch skip their render.
 */
export interface CardCtx {
  open(ticketId: number): void;
  fullName(username: string): string;
  indicators: Map<number, LiveIndicator>;
  activeId: number | null;
}

export const CardContext = createContext<CardCtx | null>(null);

export function useCardCtx(): CardCtx {
  const ctx = useContext(CardContext);
  if (!ctx) throw new Error("useCardCtx outside a board");
  return ctx;
}
