// The SLA state in icon + words (never colour alone) with a countdown from the one shared clock.
import type { Sla } from "../../api/types";
import { formatCountdown, useNow } from "../../lib/clock";

const LABEL = {
  on_track: ["◷", "On track"],
  near_breach: ["⚠", "Near breach"],
  breached: ["⛔", "Breached"],
  paused: ["⏸", "Paused"],
  met: ["✓", "Met"],
} as const;

export function slaView(sla: Sla, firstResponded: boolean, now: number) {
  const due =
    !firstResponded && sla.first_response_due_at
      ? sla.first_response_due_at
      : sla.resolution_due_at;
  const remaining = due ? Date.parse(due) - now : null;
  let state = sla.state;
  if (state === "no_sla") return null;
  if ((state === "on_track" || state === "near_breach") && remaining !== null && remaining < 0)
    state = "breached";
  return { state, remaining: state === "paused" || state === "met" ? null : remaining };
}

export function SlaBadge({
  sla,
  firstResponded,
}: {
  sla: Sla | null | undefined;
  firstResponded: boolean;
}) {
  const now = useNow();
  if (!sla) return null;
  const view = slaView(sla, firstResponded, now);
  if (!view) return null;
  const [icon, label] = LABEL[view.state as keyof typeof LABEL];
  const time = view.remaining === null ? "" : ` ${formatCountdown(view.remaining)}`;
  return (
    <span className={`badge sla sla-${view.state}`} title={`SLA: ${label}${time}`}>
      <span aria-hidden="true">{icon}</span> {label}
      {time}
    </span>
  );
}
