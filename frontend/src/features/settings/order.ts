// Column order helpers: the full id list the reorder endpoint takes, after one move.

/** `ids` with `id` moved from its place to `to` (clamped); null when nothing changes. */
export function moveTo(ids: readonly number[], id: number, to: number): number[] | null {
  const from = ids.indexOf(id);
  const target = Math.max(0, Math.min(ids.length - 1, to));
  if (from === -1 || from === target) return null;
  const out = ids.filter((x) => x !== id);
  out.splice(target, 0, id);
  return out;
}

/** One step up (-1) or down (+1). */
export function moveBy(ids: readonly number[], id: number, delta: -1 | 1): number[] | null {
  return moveTo(ids, id, ids.indexOf(id) + delta);
}

/** The form's WIP text as the API's value: blank is no limit; anything else goes as typed. */
export function limitValue(text: string): number | null {
  const trimmed = text.trim();
  return trimmed === "" ? null : Number(trimmed);
}
