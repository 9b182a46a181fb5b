// Which statuses a ticket may move to: the project's workflow ({from: [to...]}); a status the
// workflow does not list may go anywhere.
import type { WorkflowStatus } from "../../api/ticketTypes";

export function allowedTargets(
  statuses: WorkflowStatus[],
  workflow: Record<string, string[]> | null | undefined,
  from: string,
): WorkflowStatus[] {
  const others = statuses.filter((s) => s.key !== from);
  const listed = workflow?.[from];
  if (!listed) return others;
  const allowed = new Set(listed);
  return others.filter((s) => allowed.has(s.key));
}
