// One SLA badge per metric (first response, resolution) from the ticket's `sla`, the shared clock
// and the stored timeline: on track, near breach, breached (negative time), paused, met.
import type { Sla } from "../../api/types";
import type { SlaEvent } from "../../api/ticketTypes";
import { formatCountdown } from "../../lib/clock";

export type Metric = "first_response" | "resolution";
export type MetricState = "on_track" | "near_breach" | "breached" | "paused" | "met";

export interface MetricView {
  metric: Metric;
  state: MetricState;
  /** Milliseconds to the due time (negative once breached); null when paused or met. */
  remaining: number | null;
}

export const METRIC_NAME: Record<Metric, string> = {
  first_response: "First response",
  resolution: "Resolution",
};

export const STATE_LABEL: Record<MetricState, readonly [icon: string, label: string]> = {
  on_track: ["◷", "On track"],
  near_breach: ["⚠", "Near breach"],
  breached: ["⛔", "Breached"],
  paused: ["⏸", "Paused"],
  met: ["✓", "Met"],
};

export interface MetricInput {
  sla: Sla | null | undefined;
  firstResponseAt: string | null;
  done: boolean;
  events?: SlaEvent[];
  now: number;
}

function dueOf(sla: Sla, metric: Metric): string | null {
  return metric === "first_response" ? sla.first_response_due_at : sla.resolution_due_at;
}

/** The badges to show, in metric order (a metric without a due time has none). */
export function metricViews(input: MetricInput): MetricView[] {
  const { sla, now } = input;
  if (!sla || sla.state === "no_sla") return [];
  const met: Record<Metric, boolean> = {
    first_response: input.firstResponseAt !== null || input.done,
    resolution: input.done,
  };
  const metrics: Metric[] = ["first_response", "resolution"];
  const running = metrics.filter((m) => !met[m] && dueOf(sla, m) !== null);
  // The server says "near breach" for the ticket: the running metric due first is the one.
  const nearest = [...running].sort(
    (a, b) => Date.parse(dueOf(sla, a)!) - Date.parse(dueOf(sla, b)!),
  )[0];
  const warned = new Set(
    (input.events ?? []).filter((e) => e.type === "warned").map((e) => e.metric),
  );
  const views: MetricView[] = [];
  for (const metric of metrics) {
    const due = dueOf(sla, metric);
    if (met[metric]) {
      views.push({ metric, state: "met", remaining: null });
      continue;
    }
    if (due === null) continue;
    if (sla.paused) {
      views.push({ metric, state: "paused", remaining: null });
      continue;
    }
    const remaining = Date.parse(due) - now;
    let state: MetricState = "on_track";
    if (remaining < 0) state = "breached";
    else if (warned.has(metric) || (sla.state === "near_breach" && metric === nearest))
      state = "near_breach";
    views.push({ metric, state, remaining });
  }
  return views;
}

/** "First response: Near breach, 4m left", "Resolution: Breached, -12m", "Resolution: Met". */
export function metricText(view: MetricView): string {
  const [, label] = STATE_LABEL[view.state];
  const name = METRIC_NAME[view.metric];
  if (view.remaining === null) return `${name}: ${label}`;
  const time = formatCountdown(view.remaining);
  return view.remaining < 0 ? `${name}: ${label}, ${time}` : `${name}: ${label}, ${time} left`;
}
