import { describe, expect, it } from "vitest";
import { backoffDelay } from "./backoff";

describe("full-jitter backoff", () => {
  it("spans 1 s to 1 s * 2^n, capped at 30 s", () => {
    expect([0, 1, 2, 3, 4, 5, 6, 10].map((n) => backoffDelay(n, () => 1))).toEqual([
      1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000,
    ]);
    expect([0, 1, 5, 10].map((n) => backoffDelay(n, () => 0))).toEqual([1000, 1000, 1000, 1000]);
    expect(backoffDelay(3, () => 0.5)).toBe(4500);
  });
});
