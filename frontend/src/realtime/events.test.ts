import { describe, expect, it } from "vitest";
import { applyBoardEvent, EVENT_TABLE } from "./events";
import { board, column, ticket } from "../features/board/fixtures";

const ids = (b: ReturnType<typeof board>) => b.columns.map((c) => c.tickets.map((t) => t.id));

describe("the event table", () => {
  const start = () =>
    board([
      column(1, ["new", "open"], [ticket(1, "0|a"), ticket(2, "0|c")]),
      column(2, ["in_progress"], [{ ...ticket(3, "0|b"), status: "in_progress" }]),
    ]);

  it("moves a ticket on ticket.moved, by rank, and advances the seq", () => {
    const out = applyBoardEvent(start(), {
      type: "ticket.moved",
      seq: 11,
      data: {
        id: 1,
        key: "DESK-1",
        title: "T1",
        status: "in_progress",
        rank: "0|c",
        priority: "high",
      },
    });
    expect(ids(out.board)).toEqual([[2], [3, 1]]);
    expect(out.board.seq).toBe(11);
    expect(out.board.columns.map((c) => c.ticket_count)).toEqual([1, 2]);
    expect(out.board.columns[1]!.tickets[1]!.priority).toBe("high");
    expect(out.reload).toBe(false);
  });

  it("adds created tickets, drops archived ones, ignores comments", () => {
    let b = applyBoardEvent(start(), {
      type: "ticket.created",
      seq: 11,
      data: { ...ticket(9, "0|b") },
    }).board;
    expect(ids(b)).toEqual([[1, 9, 2], [3]]);
    b = applyBoardEvent(b, { type: "ticket.archived", seq: 12, data: { id: 1 } }).board;
    expect(ids(b)).toEqual([[9, 2], [3]]);
    b = applyBoardEvent(b, {
      type: "ticket.updated",
      seq: 13,
      data: { ...ticket(2, "0|c"), is_archived: true },
    }).board;
    expect(ids(b)).toEqual([[9], [3]]);
    const same = applyBoardEvent(b, { type: "ticket.commented", seq: 14, data: { id: 9 } });
    expect(ids(same.board)).toEqual([[9], [3]]);
    expect(same.board.seq).toBe(14);
  });

  it("asks for a reload when the payload cannot say enough", () => {
    for (const type of [
      "column.created",
      "column.updated",
      "column.deleted",
      "column.reordered",
      "board.reranked",
    ]) {
      expect(applyBoardEvent(start(), { type, seq: 11, data: {} }).reload).toBe(true);
    }
    // A move of a ticket never loaded: its old column's count is unknown here.
    expect(
      applyBoardEvent(start(), { type: "ticket.moved", seq: 11, data: { ...ticket(50, "0|z") } })
        .reload,
    ).toBe(true);
    expect(Object.keys(EVENT_TABLE)).toContain("ticket.moved");
  });

  it("updates a card from an SLA event that carries the ticket", () => {
    const out = applyBoardEvent(start(), {
      type: "sla.breached",
      seq: 11,
      data: { ...ticket(1, "0|a"), priority: "critical" },
    });
    expect(out.board.columns[0]!.tickets[0]!.priority).toBe("critical");
  });
});
