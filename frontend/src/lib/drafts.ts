// Composer drafts per ticket in the browser (localStorage): typed text survives a reload and is
// never replaced by a live update of the ticket. Storage is a parameter so the logic is testable.
export type DraftMode = "reply" | "internal";

export interface Draft {
  body: string;
  mode: DraftMode;
}

export interface DraftStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

export const draftKey = (ticketKey: string) => `helpline.draft.${ticketKey}`;

function browserStorage(): DraftStorage | null {
  try {
    return typeof localStorage === "undefined" ? null : localStorage;
  } catch {
    return null;
  }
}

export function loadDraft(
  ticketKey: string,
  storage: DraftStorage | null = browserStorage(),
): Draft | null {
  const raw = storage?.getItem(draftKey(ticketKey));
  if (!raw) return null;
  try {
    const parsed = JSON.parse(raw) as Partial<Draft>;
    if (typeof parsed.body !== "string") return null;
    return { body: parsed.body, mode: parsed.mode === "internal" ? "internal" : "reply" };
  } catch {
    return null;
  }
}

/** Save the draft; an empty body removes it. */
export function saveDraft(
  ticketKey: string,
  draft: Draft,
  storage: DraftStorage | null = browserStorage(),
): void {
  if (!storage) return;
  try {
    if (draft.body.trim() === "") storage.removeItem(draftKey(ticketKey));
    else storage.setItem(draftKey(ticketKey), JSON.stringify(draft));
  } catch {
    // Storage full or disabled: the draft lives only in the page.
  }
}

export function clearDraft(
  ticketKey: string,
  storage: DraftStorage | null = browserStorage(),
): void {
  storage?.removeItem(draftKey(ticketKey));
}
