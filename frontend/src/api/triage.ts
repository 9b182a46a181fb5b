// Triage for the create dialog: POST tickets/classify/ -> category and priority suggestions with
// confidence and source (Gemini, the local model, or keyword rules).
import { request } from "./client";
import type { Classification } from "./ticketTypes";

export function classify(project: string, title: string, description: string) {
  return request<Classification>("POST", "/api/v1/tickets/classify/", {
    project,
    title,
    description,
  });
}

export function sourceName(source: string): string {
  if (source === "gemini") return "Gemini";
  if (source === "local") return "local model";
  if (source === "keywords") return "keyword rules";
  return source;
}

/** "82%" */
export function confidenceText(confidence: number): string {
  return `${Math.round(confidence * 100)}%`;
}
