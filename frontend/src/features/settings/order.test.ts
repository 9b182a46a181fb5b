import { describe, expect, it } from "vitest";
import { limitValue, moveBy, moveTo } from "./order";

describe("column order", () => {
  it("moves one step up or down and refuses the edges", () => {
    expect(moveBy([1, 2, 3], 3, -1)).toEqual([1, 3, 2]);
    expect(moveBy([1, 2, 3], 1, 1)).toEqual([2, 1, 3]);
    expect(moveBy([1, 2, 3], 1, -1)).toBeNull();
    expect(moveBy([1, 2, 3], 3, 1)).toBeNull();
  });

  it("moves to any place (a drop), clamped, and ignores unknown ids", () => {
    expect(moveTo([1, 2, 3, 4], 4, 1)).toEqual([1, 4, 2, 3]);
    expect(moveTo([1, 2, 3, 4], 1, 9)).toEqual([2, 3, 4, 1]);
    expect(moveTo([1, 2, 3], 2, 1)).toBeNull();
    expect(moveTo([1, 2, 3], 7, 0)).toBeNull();
  });

  it("reads a WIP limit: blank is none, the rest is the server's to judge", () => {
    expect(limitValue("")).toBeNull();
    expect(limitValue(" 5 ")).toBe(5);
    expect(limitValue("-1")).toBe(-1);
    expect(limitValue("1.5")).toBe(1.5);
  });
});
