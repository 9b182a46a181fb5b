// The queue's URL <-> the API's ticket filters. The URL's query string IS the API's query string
// (`/tickets?status=new,open&q=printer`), plus `cursor` for the page; values are plain strings.
import type { operations } from "../../api/schema";

export const FILTER_KEYS = [
  "project",
  "status",
  "status_category",
  "priority",
  "category",
  "assignee",
  "requester",
  "tag",
  "q",
  "sla_state",
  "created_after",
  "created_before",
  "archived",
] as const;

export type FilterKey = (typeof FILTER_KEYS)[number];

// The list above is the server's (tickets/filters.py, through the generated schema): a filter added
// to or removed from the API without this list fails the type check (`make ui-check`).
type ApiFilterKey = Exclude<
  keyof NonNullable<operations["v1_tickets_list"]["parameters"]["query"]>,
  "cursor" | "page_size" | "ordering"
>;
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const FILTERS_ARE_THE_APIS: Same<FilterKey, ApiFilterKey> = true;
void FILTERS_ARE_THE_APIS;

export type QueueSearch = Partial<Record<FilterKey | "ordering" | "cursor", string>>;

export const DEFAULT_ORDERING = "-created_at";

export const ORDERINGS: { value: string; label: string }[] = [
  { value: "-created_at", label: "Newest first" },
  { value: "created_at", label: "Oldest first" },
  { value: "-updated_at", label: "Recently updated" },
  { value: "updated_at", label: "Least recently updated" },
  { value: "-priority", label: "Priority, highest first" },
  { value: "priority", label: "Priority, lowest first" },
  { value: "sla_due_at", label: "Next SLA breach" },
  { value: "rank", label: "Board rank" },
];

const KNOWN = new Set<string>([...FILTER_KEYS, "ordering", "cursor"]);

/** The router's validateSearch: known keys with non-empty values, as trimmed strings. */
export function validateQueueSearch(raw: Record<string, unknown>): QueueSearch {
  const out: QueueSearch = {};
  for (const [key, value] of Object.entries(raw)) {
    if (!KNOWN.has(key)) continue;
    if (typeof value !== "string" && typeof value !== "number" && typeof value !== "boolean")
      continue;
    const text = String(value).trim();
    if (text) out[key as keyof QueueSearch] = text;
  }
  if (out.ordering === DEFAULT_ORDERING) delete out.ordering;
  return out;
}

/** The filters and ordering (no cursor), in a stable order: for the API, saved views and exports. */
export function filtersOf(search: QueueSearch): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of [...FILTER_KEYS, "ordering"] as const) {
    const value = search[key];
    if (value) out[key] = value;
  }
  return out;
}

/** `status=new,open&q=printer` (commas kept readable); with `cursor` when asked. */
export function toQueryString(search: QueueSearch, withCursor = false): string {
  const pairs = Object.entries(filtersOf(search));
  if (withCursor && search.cursor) pairs.push(["cursor", search.cursor]);
  return pairs.map(([k, v]) => `${k}=${encodeURIComponent(v).replace(/%2C/gi, ",")}`).join("&");
}

/** Parse a saved view's query string back into queue search params. */
export function fromQueryString(qs: string): QueueSearch {
  const params = new URLSearchParams(qs.replace(/^\?/, ""));
  return validateQueueSearch(Object.fromEntries(params.entries()));
}

/** A comma list filter as values. */
export function listOf(value: string | undefined): string[] {
  return (value ?? "")
    .split(",")
    .map((v) => v.trim())
    .filter(Boolean);
}

/** Set (or remove) one filter; any filter change goes back to the first page. */
export function withFilter(
  search: QueueSearch,
  key: FilterKey | "ordering",
  value: string | string[] | undefined,
): QueueSearch {
  const text = Array.isArray(value) ? value.join(",") : (value ?? "").trim();
  const next: QueueSearch = { ...search };
  delete next.cursor;
  if (text && !(key === "ordering" && text === DEFAULT_ORDERING)) next[key] = text;
  else delete next[key];
  return next;
}

/** Whether any filter (not the ordering or the page) is set. */
export function hasFilters(search: QueueSearch): boolean {
  return FILTER_KEYS.some((key) => Boolean(search[key]));
}

/** Clear every filter, keep the ordering. */
export function clearFilters(search: QueueSearch): QueueSearch {
  return search.ordering ? { ordering: search.ordering } : {};
}

/** The `cursor` of a `next`/`previous` link from the API (null when there is none). */
export function cursorOf(link: string | null): string | null {
  if (!link) return null;
  return new URL(link, "http://x").searchParams.get("cursor");
}
