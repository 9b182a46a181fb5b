import { describe, expect, it } from "vitest";
import { titleFor } from "./Bell";
import { ticketKeyOf, type Notification } from "../api/notifications";

const base: Notification = {
  id: 1,
  kind: "ticket.assigned",
  title: "DESK-1 assigned to you",
  project: "DESK",
  ticket: 1,
  actor: "root",
  data: {},
  read: false,
  read_at: null,
  created_at: "2026-12-05T10:00:00Z",
};

describe("titleFor", () => {
  it("shows the unread count before the name only when there is one", () => {
    expect(titleFor(0)).toBe("Helpline");
    expect(titleFor(3)).toBe("(3) Helpline");
  });
});

describe("ticketKeyOf", () => {
  it("takes the key from data.ticket, or none", () => {
    expect(ticketKeyOf({ ...base, data: { ticket: { key: "DESK-42" } } })).toBe("DESK-42");
    expect(ticketKeyOf({ ...base, data: {} })).toBeNull();
    expect(ticketKeyOf({ ...base, data: { ticket: { key: "" } } })).toBeNull();
  });
});
