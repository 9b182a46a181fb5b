// Bulk selection: a click toggles one row, Shift-click selects the range from the last clicked
// row (the anchor) to this one, taking the clicked row's new state for the whole range.

export interface Selection {
  ids: ReadonlySet<number>;
  anchor: number | null;
}

export const emptySelection: Selection = { ids: new Set(), anchor: null };

export function toggleRow(selection: Selection, id: number): Selection {
  const ids = new Set(selection.ids);
  if (ids.has(id)) ids.delete(id);
  else ids.add(id);
  return { ids, anchor: id };
}

/** Shift-click on `id`: every row between the anchor and `id` (in page order) takes `id`'s new state. */
export function selectRange(selection: Selection, order: readonly number[], id: number): Selection {
  const from = selection.anchor === null ? -1 : order.indexOf(selection.anchor);
  const to = order.indexOf(id);
  if (from < 0 || to < 0) return toggleRow(selection, id);
  const select = !selection.ids.has(id);
  const ids = new Set(selection.ids);
  const [lo, hi] = from <= to ? [from, to] : [to, from];
  for (const rowId of order.slice(lo, hi + 1)) {
    if (select) ids.add(rowId);
    else ids.delete(rowId);
  }
  return { ids, anchor: id };
}

/** Select every row of the page, or none when all are selected already. */
export function toggleAll(selection: Selection, order: readonly number[]): Selection {
  const all = order.length > 0 && order.every((id) => selection.ids.has(id));
  return { ids: all ? new Set() : new Set(order), anchor: null };
}

/** Keep only rows still on the page (after a refetch or a page change). */
export function keepVisible(selection: Selection, order: readonly number[]): Selection {
  const visible = new Set(order);
  const ids = new Set([...selection.ids].filter((id) => visible.has(id)));
  if (ids.size === selection.ids.size) return selection;
  return {
    ids,
    anchor: selection.anchor !== null && visible.has(selection.anchor) ? selection.anchor : null,
  };
}
