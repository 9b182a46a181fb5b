// The shell's "New ticket" button and its command (`c`, and "New ticket" in the palette).
import { useState } from "react";
import { useCommands } from "../../commands/registry";
import { CreateDialog } from "./CreateDialog";

export function NewTicketButton() {
  const [open, setOpen] = useState(false);
  useCommands([
    {
      id: "new-ticket",
      title: "New ticket",
      group: "General",
      keys: "c",
      run: () => setOpen(true),
    },
  ]);
  return (
    <>
      <button type="button" className="primary" onClick={() => setOpen(true)} aria-keyshortcuts="c">
        New ticket
      </button>
      <CreateDialog open={open} onOpenChange={setOpen} />
    </>
  );
}
