import { describe, expect, it } from "vitest";
import { allowedTargets } from "./transitions";

const statuses = ["new", "open", "pending", "resolved", "closed"].map((key) => ({
  key,
  name: key[0]!.toUpperCase() + key.slice(1),
  category: "todo",
}));

describe("allowedTargets", () => {
  it("offers only the workflow's targets of the current status", () => {
    const workflow = { new: ["open", "pending"], closed: ["open"] };
    expect(allowedTargets(statuses, workflow, "new").map((s) => s.key)).toEqual([
      "open",
      "pending",
    ]);
    expect(allowedTargets(statuses, workflow, "closed").map((s) => s.key)).toEqual(["open"]);
  });

  it("lets a status the workflow does not list go anywhere but itself", () => {
    expect(allowedTargets(statuses, { new: ["open"] }, "open").map((s) => s.key)).toEqual([
      "new",
      "pending",
      "resolved",
      "closed",
    ]);
    expect(allowedTargets(statuses, {}, "new")).toHaveLength(4);
    expect(allowedTargets(statuses, null, "new")).toHaveLength(4);
  });

  it("offers nothing when the workflow lists no target", () => {
    expect(allowedTargets(statuses, { resolved: [] }, "resolved")).toEqual([]);
  });
});
