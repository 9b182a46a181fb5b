import { describe, expect, it } from "vitest";
import {
  clearFilters,
  cursorOf,
  fromQueryString,
  hasFilters,
  listOf,
  toQueryString,
  validateQueueSearch,
  withFilter,
} from "./search";

describe("queue search <-> URL", () => {
  it("keeps known keys as trimmed strings and drops the rest", () => {
    expect(
      validateQueueSearch({
        status: "new,open",
        q: " printer ",
        page_size: "9",
        bogus: "x",
        assignee: 42,
        tag: "",
      }),
    ).toEqual({
      status: "new,open",
      q: "printer",
      assignee: "42",
    });
  });

  it("drops the default ordering", () => {
    expect(validateQueueSearch({ ordering: "-created_at" })).toEqual({});
    expect(validateQueueSearch({ ordering: "sla_due_at" })).toEqual({ ordering: "sla_due_at" });
  });

  it("writes the API's query string with readable commas, cursor only when asked", () => {
    const search = { q: "a&b c", status: "new,open", ordering: "-priority", cursor: "cD0x" };
    expect(toQueryString(search)).toBe("status=new,open&q=a%26b%20c&ordering=-priority");
    expect(toQueryString(search, true)).toBe(
      "status=new,open&q=a%26b%20c&ordering=-priority&cursor=cD0x",
    );
  });

  it("round-trips a saved view's query string", () => {
    expect(fromQueryString("?status=new,open&q=printer")).toEqual({
      status: "new,open",
      q: "printer",
    });
    expect(toQueryString(fromQueryString("priority=high&sla_state=breached"))).toBe(
      "priority=high&sla_state=breached",
    );
  });

  it("a filter change goes back to page one; an empty value removes the key", () => {
    expect(withFilter({ q: "x", cursor: "c" }, "status", ["new", "open"])).toEqual({
      q: "x",
      status: "new,open",
    });
    expect(withFilter({ q: "x", status: "new" }, "status", [])).toEqual({ q: "x" });
    expect(withFilter({ ordering: "rank" }, "ordering", "-created_at")).toEqual({});
  });

  it("lists, clears and tells whether filters are set", () => {
    expect(listOf(" new, ,open ")).toEqual(["new", "open"]);
    expect(listOf(undefined)).toEqual([]);
    expect(hasFilters({ ordering: "rank", cursor: "c" })).toBe(false);
    expect(hasFilters({ q: "x" })).toBe(true);
    expect(clearFilters({ q: "x", status: "new", ordering: "rank", cursor: "c" })).toEqual({
      ordering: "rank",
    });
  });

  it("reads the cursor of the API's next/previous links", () => {
    expect(cursorOf("http://desk/api/v1/tickets/?cursor=cD0y&page_size=50")).toBe("cD0y");
    expect(cursorOf(null)).toBeNull();
  });
});
