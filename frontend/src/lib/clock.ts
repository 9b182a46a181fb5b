// One shared "now" for every countdown on the page, corrected by the server's clock (hello's
// server_now). One interval for the whole app; badges subscribe, none keeps a timer of its own.
import { useSyncExternalStore } from "react";

let offsetMs = 0;
let now = Date.now();
const listeners = new Set<() => void>();
let timer: ReturnType<typeof setInterval> | null = null;

function tick() {
  now = Date.now() + offsetMs;
  for (const listener of listeners) listener();
}

/** The server said it is `serverNow` (ISO) when we received the message. */
export function syncServerClock(serverNow: string, receivedAt: number = Date.now()): void {
  const server = Date.parse(serverNow);
  if (Number.isNaN(server)) return;
  offsetMs = server - receivedAt;
  tick();
}

export function serverNow(): number {
  return Date.now() + offsetMs;
}

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  timer ??= setInterval(tick, 1000);
  return () => {
    listeners.delete(listener);
    if (listeners.size === 0 && timer !== null) {
      clearInterval(timer);
      timer = null;
    }
  };
}

/** The shared clock, re-rendering once a second. */
export function useNow(): number {
  return useSyncExternalStore(subscribe, () => now);
}

/** "2h 05m", "-12m" (breached), "45s". */
export function formatCountdown(ms: number): string {
  const sign = ms < 0 ? "-" : "";
  let seconds = Math.floor(Math.abs(ms) / 1000);
  const days = Math.floor(seconds / 86400);
  seconds -= days * 86400;
  const hours = Math.floor(seconds / 3600);
  seconds -= hours * 3600;
  const minutes = Math.floor(seconds / 60);
  seconds -= minutes * 60;
  if (days > 0) return `${sign}${days}d ${hours}h`;
  if (hours > 0) return `${sign}${hours}h ${String(minutes).padStart(2, "0")}m`;
  if (minutes > 0) return `${sign}${minutes}m`;
  return `${sign}${seconds}s`;
}
