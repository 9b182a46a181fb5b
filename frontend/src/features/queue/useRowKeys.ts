// The queue's single-key shortcuts, bound by event.key: j / k move the focused row, x toggles its
// selection, Enter opens it. Off inside text fields and with any modifier (no Alt+letter).
import { useEffect } from "react";

export function isTypingTarget(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable) return true;
  const tag = target.tagName;
  if (tag === "TEXTAREA" || tag === "SELECT") return true;
  if (tag !== "INPUT") return false;
  const type = (target as HTMLInputElement).type;
  return !["checkbox", "radio", "button", "submit", "reset"].includes(type);
}

export interface RowKeyActions {
  count: number;
  focused: number;
  focus(index: number): void;
  toggle(index: number): void;
  open(index: number): void;
}

export function useRowKeys(actions: RowKeyActions): void {
  const { count, focused, focus, toggle, open } = actions;
  useEffect(() => {
    function onKey(event: KeyboardEvent) {
      if (event.defaultPrevented || event.altKey || event.ctrlKey || event.metaKey) return;
      if (isTypingTarget(event.target) || count === 0) return;
      const target = event.target as HTMLElement | null;
      // A focused control (button, link, checkbox) keeps its own Enter.
      if (event.key === "Enter") {
        if (focused < 0 || (target && target.tagName !== "TR" && target !== document.body)) return;
        event.preventDefault();
        open(focused);
      } else if (event.key === "j") {
        event.preventDefault();
        focus(Math.min(count - 1, focused + 1));
      } else if (event.key === "k") {
        event.preventDefault();
        focus(Math.max(0, focused - 1));
      } else if (event.key === "x" && focused >= 0) {
        event.preventDefault();
        toggle(focused);
      }
    }
    document.addEventListener("keydown", onKey);
    return () => document.removeEventListener("keydown", onKey);
  }, [count, focused, focus, toggle, open]);
}
