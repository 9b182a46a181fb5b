// Ctrl/Cmd+K: the command palette. A combobox ("Command") over a listbox of what the registry
// offers, plus "Go to DESK-42" for a ticket key and "Search tickets for …" for other text. Arrow
// keys and Enter choose, Escape closes, and focus returns where it was; the chosen command
// runs once the palette has closed, so a dialog it opens returns focus to the same place.
import { useId, useRef, useState, type KeyboardEvent } from "react";
import * as Dialog from "@radix-ui/react-dialog";
import { useNavigate } from "@tanstack/react-router";
import { keyLabel, useCommands, useRegisteredCommands } from "./registry";
import { paletteOptions, type PaletteOption } from "./paletteOptions";
import { useReturnFocus } from "./returnFocus";
import "./commands.css";

export function Palette({ staff }: { staff: boolean }) {
  const [open, setOpen] = useState(false);
  const chosen = useRef<PaletteOption | null>(null);
  const focus = useReturnFocus();
  useCommands([
    {
      id: "palette",
      title: "Command palette",
      group: "General",
      keys: "mod+k",
      palette: false,
      run: () => setOpen((o) => !o),
    },
  ]);
  return (
    <Dialog.Root open={open} onOpenChange={setOpen}>
      <Dialog.Portal>
        <Dialog.Overlay className="drawer-overlay" />
        <Dialog.Content
          className="palette"
          aria-describedby={undefined}
          onOpenAutoFocus={focus.remember}
          onCloseAutoFocus={(event) => {
            focus.restore(event);
            const option = chosen.current;
            chosen.current = null;
            option?.run();
          }}
        >
          <Dialog.Title className="visually-hidden">Command palette</Dialog.Title>
          {open && (
            <PaletteBody
              staff={staff}
              onChoose={(option) => {
                chosen.current = option;
                setOpen(false);
              }}
            />
          )}
        </Dialog.Content>
      </Dialog.Portal>
    </Dialog.Root>
  );
}

function PaletteBody({
  staff,
  onChoose,
}: {
  staff: boolean;
  onChoose(option: PaletteOption): void;
}) {
  const navigate = useNavigate();
  const commands = useRegisteredCommands();
  const [query, setQuery] = useState("");
  const [active, setActive] = useState(0);
  const listId = useId();
  const options = paletteOptions(query, commands, {
    goToTicket: (key) =>
      void (staff
        ? navigate({ to: "/tickets/$ticketKey", params: { ticketKey: key } })
        : navigate({ to: "/portal/tickets/$key", params: { key } })),
    search: staff ? (q) => void navigate({ to: "/tickets", search: { q } }) : undefined,
  });
  const current = Math.min(active, options.length - 1);
  const optionId = (i: number) => `${listId}-${i}`;

  function onKeyDown(event: KeyboardEvent<HTMLInputElement>) {
    const last = options.length - 1;
    let next: number | null = null;
    if (event.key === "ArrowDown") next = current >= last ? 0 : current + 1;
    else if (event.key === "ArrowUp") next = current <= 0 ? last : current - 1;
    else if (event.key === "Home" && event.ctrlKey) next = 0;
    else if (event.key === "End" && event.ctrlKey) next = last;
    else if (event.key === "Enter" && options[current]) {
      event.preventDefault();
      onChoose(options[current]);
      return;
    }
    if (next === null || last < 0) return;
    event.preventDefault();
    setActive(next);
    document.getElementById(optionId(next))?.scrollIntoView({ block: "nearest" });
  }

  return (
    <>
      <input
        className="palette-input"
        role="combobox"
        aria-label="Command"
        aria-expanded="true"
        aria-controls={listId}
        aria-autocomplete="list"
        aria-activedescendant={current >= 0 ? optionId(current) : undefined}
        placeholder={staff ? "Type a command, a ticket key or words to search" : "Type a command"}
        autoComplete="off"
        spellCheck={false}
        value={query}
        onChange={(e) => {
          setQuery(e.target.value);
          setActive(0);
        }}
        onKeyDown={onKeyDown}
      />
      <ul className="palette-list" role="listbox" id={listId} aria-label="Commands">
        {options.map((option, i) => (
          <li
            key={option.id}
            id={optionId(i)}
            role="option"
            aria-selected={i === current}
            className="palette-option"
            onMouseMove={() => i !== current && setActive(i)}
            onClick={() => onChoose(option)}
          >
            <span className="palette-title">{option.title}</span>
            <span className="palette-group" aria-hidden="true">
              {option.group}
            </span>
            {option.keys && (
              <kbd className="palette-key" aria-hidden="true">
                {keyLabel(option.keys)}
              </kbd>
            )}
          </li>
        ))}
      </ul>
      {options.length === 0 && <p className="palette-empty">No matching commands</p>}
    </>
  );
}
