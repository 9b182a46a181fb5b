// The create form's triage: the classify answer and what the person did with each chip; the body
// sent with the create (`triage`), where a field changed by hand after Apply is no longer applied.
import type { Classification, Decision, NewTicket } from "../../api/ticketTypes";

export type Field = "category" | "priority";

export interface Triage {
  suggestion: Classification;
  decisions: Partial<Record<Field, Decision>>;
}

export function suggested(t: Classification, field: Field): string {
  return field === "category" ? t.suggested_category : t.suggested_priority;
}

/** The `triage` object of POST tickets/ given the fields' final values. */
export function triageBody(
  triage: Triage | null,
  values: Record<Field, string>,
): NewTicket["triage"] | undefined {
  if (!triage) return undefined;
  const decisions: Partial<Record<Field, Decision>> = {};
  for (const field of ["category", "priority"] as const) {
    const decision = triage.decisions[field];
    if (decision === "dismissed") decisions[field] = "dismissed";
    else if (decision === "applied" && values[field] === suggested(triage.suggestion, field))
      decisions[field] = "applied";
  }
  return { ...triage.suggestion, decisions };
}
