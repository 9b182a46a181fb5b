// "?": every registered key with what it does, grouped, and the switch for single-key shortcuts.
import { useId, useState } from "react";
import * as Dialog from "@radix-ui/react-dialog";
import {
  isModKey,
  keyLabel,
  useCommands,
  useRegisteredCommands,
  useSingleKeys,
  type Command,
} from "./registry";
import { useReturnFocus } from "./returnFocus";
import "./commands.css";

export const SHEET_COMMAND = "shortcuts";

export function ShortcutSheet() {
  const [open, setOpen] = useState(false);
  const focus = useReturnFocus();
  useCommands([
    {
      id: SHEET_COMMAND,
      title: "Keyboard shortcuts",
      group: "General",
      keys: "?",
      run: () => setOpen(true),
    },
  ]);
  return (
    <Dialog.Root open={open} onOpenChange={setOpen}>
      <Dialog.Portal>
        <Dialog.Overlay className="drawer-overlay" />
        <Dialog.Content
          className="shortcut-sheet"
          aria-describedby={undefined}
          onOpenAutoFocus={focus.remember}
          onCloseAutoFocus={focus.restore}
        >
          <Dialog.Title className="drawer-title">Keyboard shortcuts</Dialog.Title>
          <Dialog.Close className="icon-button drawer-close" aria-label="Close">
            ×
          </Dialog.Close>
          {open && <SheetBody />}
        </Dialog.Content>
      </Dialog.Portal>
    </Dialog.Root>
  );
}

export function groupByHeading(commands: Command[]): [string, Command[]][] {
  const groups = new Map<string, Command[]>([["General", []]]);
  for (const command of commands) {
    if (!command.keys) continue;
    groups.set(command.group, [...(groups.get(command.group) ?? []), command]);
  }
  // Ctrl/Cmd combinations first, then single keys in the order they were registered.
  const modFirst = (a: Command, b: Command) => +!isModKey(a.keys!) - +!isModKey(b.keys!);
  return [...groups]
    .filter(([, list]) => list.length > 0)
    .map(([group, list]) => [group, list.sort(modFirst)]);
}

function SheetBody() {
  const commands = useRegisteredCommands();
  const [singleKeys, setSingleKeys] = useSingleKeys();
  const hint = useId();
  return (
    <>
      <label className="check shortcut-toggle">
        <input
          type="checkbox"
          checked={singleKeys}
          aria-describedby={hint}
          onChange={(e) => setSingleKeys(e.target.checked)}
        />
        Single-key shortcuts
      </label>
      <p id={hint} className="shortcut-hint">
        {singleKeys
          ? "Single keys never act while you type in a field or hold Ctrl, ⌘ or Alt."
          : `Single keys are off; ${keyLabel("mod+k")} still opens the command palette.`}
      </p>
      {groupByHeading(commands).map(([group, list]) => (
        <section key={group} className="shortcut-group">
          <h3>{group}</h3>
          <dl>
            {list.map((command) => {
              const off = !singleKeys && !command.focused && !isModKey(command.keys!);
              return (
                <div key={command.id} className={off ? "off" : undefined}>
                  <dt>
                    <kbd>{keyLabel(command.keys!)}</kbd>
                  </dt>
                  <dd>
                    {command.title}
                    {off && <span className="visually-hidden"> (off)</span>}
                  </dd>
                </div>
              );
            })}
          </dl>
        </section>
      ))}
    </>
  );
}
