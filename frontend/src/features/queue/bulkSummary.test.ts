import { describe, expect, it } from "vitest";
import { bulkSummary } from "./bulkSummary";
import { isColleagueTicketEvent } from "./useQueueLive";

const key = (id: number | string) => `DESK-${id}`;

describe("bulk result summary", () => {
  it("says how many were updated", () => {
    expect(
      bulkSummary(
        [
          { id: 1, ok: true, error: null },
          { id: 2, ok: true, error: null },
        ],
        key,
      ),
    ).toBe("2 updated");
  });

  it("names each failure and its reason", () => {
    const results = [
      { id: 1, ok: true, error: null },
      {
        id: 2,
        ok: false,
        error: { code: "invalid_transition", message: "Closed tickets only reopen." },
      },
      { id: 3, ok: false, error: { code: "not_found", message: "No such ticket." } },
    ];
    expect(bulkSummary(results, key)).toBe(
      "1 updated, 2 failed: DESK-2: Closed tickets only reopen.; DESK-3: No such ticket.",
    );
  });
});

describe("live marks", () => {
  const event = (type: string, actor: string | null, id: unknown = 7) => ({
    type,
    seq: 1,
    data: { id },
    actor: actor ? { username: actor, full_name: actor } : null,
  });
  it("marks a colleague's ticket and SLA events, not one's own or column events", () => {
    expect(isColleagueTicketEvent(event("ticket.updated", "bob"), "ann")).toBe(7);
    expect(isColleagueTicketEvent(event("sla.breached", null), "ann")).toBe(7);
    expect(isColleagueTicketEvent(event("ticket.updated", "ann"), "ann")).toBeNull();
    expect(isColleagueTicketEvent(event("column.updated", "bob"), "ann")).toBeNull();
    expect(isColleagueTicketEvent(event("ticket.moved", "bob", "7"), "ann")).toBeNull();
  });
});
