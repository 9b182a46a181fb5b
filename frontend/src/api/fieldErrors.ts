// The envelope's field errors (`details.fields.<name>`: a list of sentences) as one sentence a field.
import { ApiError } from "./errors";

export function fieldErrors(error: unknown): Record<string, string> {
  if (!(error instanceof ApiError)) return {};
  const fields = error.details.fields;
  if (typeof fields !== "object" || fields === null) return {};
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(fields as Record<string, unknown>)) {
    if (Array.isArray(value)) out[name] = value.map(String).join(" ");
    else if (typeof value === "string") out[name] = value;
    else if (value && typeof value === "object") out[name] = JSON.stringify(value);
  }
  return out;
}
