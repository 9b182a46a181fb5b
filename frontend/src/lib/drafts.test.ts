import { describe, expect, it } from "vitest";
import { clearDraft, draftKey, loadDraft, saveDraft, type DraftStorage } from "./drafts";

function memory(): DraftStorage & { map: Map<string, string> } {
  const map = new Map<string, string>();
  return {
    map,
    getItem: (k) => map.get(k) ?? null,
    setItem: (k, v) => void map.set(k, v),
    removeItem: (k) => void map.delete(k),
  };
}

describe("drafts", () => {
  it("keeps a draft per ticket, with its mode", () => {
    const storage = memory();
    saveDraft("DESK-1", { body: "half an answer", mode: "internal" }, storage);
    saveDraft("DESK-2", { body: "another", mode: "reply" }, storage);
    expect(loadDraft("DESK-1", storage)).toEqual({ body: "half an answer", mode: "internal" });
    expect(loadDraft("DESK-2", storage)).toEqual({ body: "another", mode: "reply" });
    expect(loadDraft("DESK-3", storage)).toBeNull();
  });

  it("removes the draft when the text is emptied or sent", () => {
    const storage = memory();
    saveDraft("DESK-1", { body: "x", mode: "reply" }, storage);
    saveDraft("DESK-1", { body: "   ", mode: "reply" }, storage);
    expect(storage.map.has(draftKey("DESK-1"))).toBe(false);
    saveDraft("DESK-1", { body: "y", mode: "reply" }, storage);
    clearDraft("DESK-1", storage);
    expect(loadDraft("DESK-1", storage)).toBeNull();
  });

  it("ignores what it cannot read", () => {
    const storage = memory();
    storage.setItem(draftKey("DESK-1"), "{not json");
    expect(loadDraft("DESK-1", storage)).toBeNull();
    storage.setItem(draftKey("DESK-1"), JSON.stringify({ body: "ok", mode: "other" }));
    expect(loadDraft("DESK-1", storage)).toEqual({ body: "ok", mode: "reply" });
  });
});
