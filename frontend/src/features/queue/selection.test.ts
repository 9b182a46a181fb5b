import { describe, expect, it } from "vitest";
import { emptySelection, keepVisible, selectRange, toggleAll, toggleRow } from "./selection";

const order = [10, 11, 12, 13, 14];
const ids = (s: { ids: ReadonlySet<number> }) => [...s.ids].sort();

describe("bulk selection", () => {
  it("a click toggles one row and sets the anchor", () => {
    const one = toggleRow(emptySelection, 11);
    expect(ids(one)).toEqual([11]);
    expect(one.anchor).toBe(11);
    expect(ids(toggleRow(one, 11))).toEqual([]);
  });

  it("shift-click selects the range from the anchor, either direction", () => {
    expect(ids(selectRange(toggleRow(emptySelection, 11), order, 13))).toEqual([11, 12, 13]);
    expect(ids(selectRange(toggleRow(emptySelection, 14), order, 12))).toEqual([12, 13, 14]);
  });

  it("shift-click on a selected row clears the range", () => {
    const all = toggleAll(emptySelection, order);
    const anchored = toggleRow(toggleRow(all, 10), 10);
    expect(ids(selectRange(anchored, order, 12))).toEqual([13, 14]);
  });

  it("without an anchor shift-click is a plain toggle", () => {
    expect(ids(selectRange(emptySelection, order, 12))).toEqual([12]);
  });

  it("select all toggles the page; only visible rows stay selected", () => {
    expect(ids(toggleAll(emptySelection, order))).toEqual(order);
    expect(ids(toggleAll(toggleAll(emptySelection, order), order))).toEqual([]);
    const kept = keepVisible({ ids: new Set([10, 99]), anchor: 99 }, order);
    expect(ids(kept)).toEqual([10]);
    expect(kept.anchor).toBeNull();
  });
});
