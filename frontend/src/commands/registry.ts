// The one command registry: the Ctrl/Cmd+K palette, the single-key shortcuts and the "?" sheet all
// read it. Components register what they offer while mounted (`useCommands`); one keydown listener
// (`useCommandKeys`, in the shell) dispatches by `event.key`. Single keys are off inside text fields,
// with Ctrl, Cmd or Alt held (no Alt+letter bindings: they type characters on many layouts), while a
// dialog is open, and everywhere when the person turned them off (kept in localStorage).
import { useEffect, useRef, useSyncExternalStore } from "react";

export interface Command {
  id: string;
  /** What it does, in the palette and the "?" sheet ("New ticket"). */
  title: string;
  /** The sheet's heading for it ("General", "Queue"). */
  group: string;
  /** Its key, by `event.key` ("c", "?", "Enter"), or "mod+k" for Ctrl+K / Cmd+K. */
  keys?: string;
  /** Listed in the palette (default true); contextual keys such as j / k are not. */
  palette?: boolean;
  /** A key of the focused control only (the board card's `o`): it stays on when single keys are
   * turned off (WCAG 2.1.4 exempts such keys, and keyboard users need them). */
  focused?: boolean;
  /** Return false when it does not apply here (the key then keeps its default). */
  run(event?: KeyboardEvent): boolean | void;
}

// ---- the registry -----------------------------------------------------------------------------

const commands = new Map<string, Command>();
let snapshot: Command[] = [];
const listeners = new Set<() => void>();

function changed(): void {
  snapshot = [...commands.values()];
  for (const listener of listeners) listener();
}

/** Register commands until the returned function is called (a later id replaces an earlier one). */
export function register(...list: Command[]): () => void {
  for (const command of list) commands.set(command.id, command);
  changed();
  return () => {
    for (const command of list)
      if (commands.get(command.id) === command) commands.delete(command.id);
    changed();
  };
}

/** Run a registered command by id (a menu item that opens the "?" sheet, say). */
export function runCommand(id: string): void {
  commands.get(id)?.run();
}

export function registered(): Command[] {
  return snapshot;
}

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** Every registered command, re-rendering when the list changes. */
export function useRegisteredCommands(): Command[] {
  return useSyncExternalStore(subscribe, registered, registered);
}

/** Register `list` while mounted; each `run` may change every render (the latest one runs). */
export function useCommands(list: Command[]): void {
  const latest = useRef(list);
  useEffect(() => {
    latest.current = list;
  });
  const shape = list.map((c) =>
    [c.id, c.title, c.group, c.keys, c.palette, c.focused].join("\u0000"),
  );
  const signature = shape.join("\u0001");
  useEffect(() => {
    const wrapped = latest.current.map((command, i): Command => ({
      ...command,
      run: (event) => (latest.current[i] ?? command).run(event),
    }));
    return register(...wrapped);
  }, [signature]);
}

// ---- the single-key setting -------------------------------------------------------------------

export const SINGLE_KEYS_STORAGE = "helpline.singleKeyShortcuts";
const settingListeners = new Set<() => void>();

export function singleKeysOn(): boolean {
  try {
    return localStorage.getItem(SINGLE_KEYS_STORAGE) !== "off";
  } catch {
    return true;
  }
}

export function setSingleKeys(on: boolean): void {
  try {
    if (on) localStorage.removeItem(SINGLE_KEYS_STORAGE);
    else localStorage.setItem(SINGLE_KEYS_STORAGE, "off");
  } catch {
    // Storage refused (private mode): the setting lasts for this page only.
  }
  for (const listener of settingListeners) listener();
}

export function useSingleKeys(): [boolean, (on: boolean) => void] {
  const on = useSyncExternalStore(
    (listener) => {
      settingListeners.add(listener);
      window.addEventListener("storage", listener);
      return () => {
        settingListeners.delete(listener);
        window.removeEventListener("storage", listener);
      };
    },
    singleKeysOn,
    () => true,
  );
  return [on, setSingleKeys];
}

// ---- dispatch ---------------------------------------------------------------------------------

/** A field that takes typed characters (a checkbox or a button does not). */
export function isTextField(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable) return true;
  const tag = target.tagName;
  if (tag === "TEXTAREA" || tag === "SELECT") return true;
  if (tag !== "INPUT") return false;
  const type = (target as HTMLInputElement).type;
  return !["checkbox", "radio", "button", "submit", "reset", "range", "color"].includes(type);
}

export function isModKey(keys: string): boolean {
  return keys.startsWith("mod+");
}

/** Does `event` press `keys`? A single key never matches with Ctrl, Cmd or Alt held. */
export function matches(keys: string, event: KeyboardEvent): boolean {
  if (isModKey(keys)) {
    return (
      (event.ctrlKey || event.metaKey) &&
      !event.altKey &&
      event.key.toLowerCase() === keys.slice(4).toLowerCase()
    );
  }
  return !event.ctrlKey && !event.metaKey && !event.altKey && event.key === keys;
}

function singleKeyAllowed(event: KeyboardEvent, command: Command): boolean {
  if (isTextField(event.target) || document.querySelector("[role=dialog]")) return false;
  return command.focused === true || singleKeysOn();
}

/** Run the first registered command `event` presses; true when one handled it. */
export function dispatch(event: KeyboardEvent, list: Command[] = registered()): boolean {
  if (event.defaultPrevented || event.isComposing) return false;
  for (const command of list) {
    if (!command.keys || !matches(command.keys, event)) continue;
    if (!isModKey(command.keys) && !singleKeyAllowed(event, command)) continue;
    if (command.run(event) === false) continue;
    event.preventDefault();
    return true;
  }
  return false;
}

/** The one keydown listener (the shell mounts it). */
export function useCommandKeys(): void {
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => void dispatch(event);
    document.addEventListener("keydown", onKey);
    return () => document.removeEventListener("keydown", onKey);
  }, []);
}

/** How a key reads in the sheet and the palette ("Ctrl K" or "⌘ K"). */
export function keyLabel(keys: string): string {
  if (!isModKey(keys)) return keys;
  const mac = typeof navigator !== "undefined" && /Mac|iPhone|iPad/.test(navigator.platform);
  return `${mac ? "⌘" : "Ctrl"} ${keys.slice(4).toUpperCase()}`;
}
