// The shell's "New ticket" button and its single-key shortcut `c` (off inside text fields and
// while a dialog is open; no modifier keys).
import { useEffect, useState } from "react";
import { CreateDialog } from "./CreateDialog";

export function isTyping(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable) return true;
  return ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName);
}

export function NewTicketButton() {
  const [open, setOpen] = useState(false);
  useEffect(() => {
    function onKey(event: KeyboardEvent) {
      if (event.key !== "c" || event.ctrlKey || event.metaKey || event.altKey) return;
      if (isTyping(event.target) || document.querySelector("[role=dialog]")) return;
      event.preventDefault();
      setOpen(true);
    }
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, []);
  return (
    <>
      <button type="button" className="primary" onClick={() => setOpen(true)} aria-keyshortcuts="c">
        New ticket
      </button>
      <CreateDialog open={open} onOpenChange={setOpen} />
    </>
  );
}
