import { describe, expect, it } from "vitest";
import { dropExpired } from "./live";

describe("dropExpired", () => {
  it("keeps the same map when nothing expired, so nothing re-renders", () => {
    const marks = new Map([["editing|ann", 2000]]);
    expect(dropExpired(marks, (e) => e, 1000)).toBe(marks);
  });

  it("drops exactly the entries whose time has come", () => {
    const marks = new Map([
      ["editing|ann", 1000],
      ["viewing|bob", 3000],
    ]);
    expect([...dropExpired(marks, (e) => e, 1000)]).toEqual([["viewing|bob", 3000]]);
  });
});
