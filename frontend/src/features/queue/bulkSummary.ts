// The words for a bulk action's per-item results: "18 updated, 2 failed: <why>".
import type { BulkResult } from "../../api/types";

export function bulkSummary(
  results: readonly BulkResult[],
  keyOf: (id: number | string) => string,
): string {
  const ok = results.filter((r) => r.ok).length;
  const failed = results.filter((r) => !r.ok);
  const updated = `${ok} updated`;
  if (failed.length === 0) return updated;
  const reasons = failed.map((r) => `${keyOf(r.id)}: ${r.error?.message ?? "failed"}`).join("; ");
  return `${updated}, ${failed.length} failed: ${reasons}`;
}
