// The board socket's state, for the shell's Live / Reconnecting status (one store, any reader).
import { useSyncExternalStore } from "react";

export type ConnectionState = "idle" | "connecting" | "live" | "reconnecting" | "refused";

let state: ConnectionState = "idle";
const listeners = new Set<() => void>();

export function setConnectionState(next: ConnectionState): void {
  if (next === state) return;
  state = next;
  for (const listener of listeners) listener();
}

export function useConnectionState(): ConnectionState {
  return useSyncExternalStore(
    (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    () => state,
  );
}
