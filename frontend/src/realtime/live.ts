// What every page on a board socket shares: starting the socket with its nudges (the browser came
// back online or visible), sweeping expired indicators, and repeating one's own indicator.
import { useEffect } from "react";

/** How long another person's indicator lasts when the server names no ttl. */
export const INDICATOR_TTL_S = 15;

interface Nudgeable {
  start(): void;
  stop(): void;
  nudge(): void;
}

/** Start `socket` and nudge it when the browser comes back online or visible; returns the stop. */
export function startWithNudges(socket: Nudgeable): () => void {
  const nudge = () => {
    if (document.visibilityState === "visible") socket.nudge();
  };
  socket.start();
  window.addEventListener("online", nudge);
  document.addEventListener("visibilitychange", nudge);
  return () => {
    window.removeEventListener("online", nudge);
    document.removeEventListener("visibilitychange", nudge);
    socket.stop();
  };
}

/** `current` without the entries whose expiry has passed; the same map when none has (no render). */
export function dropExpired<K, V>(
  current: Map<K, V>,
  expiresOf: (value: V) => number,
  now: number = Date.now(),
): Map<K, V> {
  if (![...current.values()].some((value) => expiresOf(value) <= now)) return current;
  return new Map([...current].filter(([, value]) => expiresOf(value) > now));
}

/** Say `type` about `ticketId` every 5 s while it is set; end it when it changes or unmounts. */
export function useIndicatorBeat(
  send: (message: Record<string, unknown>) => void,
  type: "editing" | "moving" | "viewing",
  ticketId: number | null,
): void {
  useEffect(() => {
    if (ticketId === null) return;
    send({ type, ticket_id: ticketId, active: true });
    const again = setInterval(() => send({ type, ticket_id: ticketId, active: true }), 5000);
    return () => {
      clearInterval(again);
      send({ type, ticket_id: ticketId, active: false });
    };
  }, [send, type, ticketId]);
}
