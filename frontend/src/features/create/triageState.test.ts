import { describe, expect, it } from "vitest";
import { triageBody, type Triage } from "./triageState";

const suggestion = {
  suggested_category: "billing",
  suggested_priority: "high" as const,
  confidence: 0.82,
  source: "local",
  model_version: "m1",
};

describe("triageBody", () => {
  it("is absent without a suggestion", () => {
    expect(triageBody(null, { category: "", priority: "" })).toBeUndefined();
  });

  it("sends applied fields that still hold the suggestion and dismissed ones", () => {
    const triage: Triage = {
      suggestion,
      decisions: { category: "applied", priority: "dismissed" },
    };
    expect(triageBody(triage, { category: "billing", priority: "low" })).toEqual({
      ...suggestion,
      decisions: { category: "applied", priority: "dismissed" },
    });
  });

  it("drops an Apply the person changed by hand afterwards", () => {
    const triage: Triage = { suggestion, decisions: { category: "applied", priority: "applied" } };
    expect(triageBody(triage, { category: "hardware", priority: "high" })?.decisions).toEqual({
      priority: "applied",
    });
  });
});
