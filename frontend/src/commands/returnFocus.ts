// Radix's modal Dialog returns focus to its Trigger; the palette and the sheet open from a key and
// have none, so they put focus back where it was themselves.
import { useRef } from "react";

export function useReturnFocus() {
  const previous = useRef<HTMLElement | null>(null);
  return {
    /** For Dialog.Content's onOpenAutoFocus: focus has not moved yet. */
    remember: () => {
      const active = document.activeElement;
      previous.current = active instanceof HTMLElement && active !== document.body ? active : null;
    },
    /** For Dialog.Content's onCloseAutoFocus. */
    restore: (event: Event) => {
      event.preventDefault();
      const element = previous.current;
      previous.current = null;
      if (element?.isConnected) element.focus();
    },
  };
}
