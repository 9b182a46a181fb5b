import { describe, expect, it } from "vitest";
import type { Board } from "../../api/types";
import { board, column, ticket } from "./fixtures";
import {
  indexForRank,
  neighboursAt,
  placeAtServerPosition,
  placeTicket,
  upsertByRank,
  wipRefuses,
} from "./model";

const ids = (b: Board, c: number) => b.columns.find((x) => x.id === c)!.tickets.map((t) => t.id);

describe("neighbours for a drop", () => {
  const col = column(1, ["new"], [ticket(1, "0|a"), ticket(2, "0|b"), ticket(3, "0|c")]);
  it("names the card above and below the drop position, the moved card left out", () => {
    expect(neighboursAt(col, 9, 0)).toEqual({ before_id: null, after_id: 1 });
    expect(neighboursAt(col, 9, 1)).toEqual({ before_id: 1, after_id: 2 });
    expect(neighboursAt(col, 9, 3)).toEqual({ before_id: 3, after_id: null });
    // Within the column: card 1 dropped at index 2 (after 3) -> above it 3, below it nothing.
    expect(neighboursAt(col, 1, 2)).toEqual({ before_id: 3, after_id: null });
    expect(neighboursAt(col, 3, 0)).toEqual({ before_id: null, after_id: 1 });
  });
});

describe("placing cards", () => {
  it("moves a card between columns and keeps the counts and limits", () => {
    const b = board([
      column(1, ["new"], [ticket(1, "0|a"), ticket(2, "0|b")]),
      column(2, ["open"], [ticket(3, "0|c")], { max_limit: 1 }),
    ]);
    const moved = placeTicket(b, { ...ticket(1, "0|a"), status: "open" }, 2, 1);
    expect(ids(moved, 1)).toEqual([2]);
    expect(ids(moved, 2)).toEqual([3, 1]);
    expect(moved.columns.map((c) => [c.ticket_count, c.is_over_limit])).toEqual([
      [1, false],
      [2, true],
    ]);
  });

  it("puts an event's ticket by rank, and only counts one past the loaded page", () => {
    const b = board([
      column(1, ["new"], [ticket(1, "0|b"), ticket(2, "0|d")], { next: "/more", ticket_count: 80 }),
    ]);
    expect(ids(upsertByRank(b, ticket(7, "0|c")).board, 1)).toEqual([1, 7, 2]);
    const past = upsertByRank(b, ticket(8, "0|z")).board;
    expect(ids(past, 1)).toEqual([1, 2]);
    expect(past.columns[0]!.ticket_count).toBe(81);
    expect(indexForRank(b.columns[0]!, "0|a", 5)).toBe(0);
  });

  it("puts a refused card back where the server says it is", () => {
    const b = board([
      column(1, ["new"], [ticket(2, "0|b"), ticket(3, "0|c")]),
      column(2, ["open"], [{ ...ticket(1, "0|a"), status: "open" }]),
    ]);
    const back = placeAtServerPosition(b, ticket(1, "0|a"), {
      status: "new",
      column: 1,
      before: 2,
      after: 3,
    });
    expect(ids(back, 1)).toEqual([2, 1, 3]);
    expect(ids(back, 2)).toEqual([]);
    const top = placeAtServerPosition(b, ticket(1, "0|a"), {
      status: "new",
      column: 1,
      before: null,
      after: 2,
    });
    expect(ids(top, 1)).toEqual([1, 2, 3]);
  });

  it("refuses a card from another column when the enforced WIP limit is reached", () => {
    const full = column(2, ["open"], [ticket(3, "0|c")], { max_limit: 1, enforce_wip: true });
    expect(wipRefuses(full, 1)).toBe(true);
    expect(wipRefuses(full, 2)).toBe(false);
    expect(wipRefuses({ ...full, enforce_wip: false }, 1)).toBe(false);
    expect(wipRefuses({ ...full, max_limit: 2 }, 1)).toBe(false);
  });
});
