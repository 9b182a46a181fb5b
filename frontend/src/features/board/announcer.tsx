// A polite live region for moves made without dragging (dnd-kit announces drags itself).
import { useSyncExternalStore } from "react";

let text = "";
const listeners = new Set<() => void>();

export function announce(message: string): void {
  text = message;
  for (const l of listeners) l();
}

export function MoveAnnouncer() {
  const message = useSyncExternalStore(
    (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    () => text,
  );
  return (
    <div className="visually-hidden" aria-live="polite" aria-atomic="true">
      {message}
    </div>
  );
}
