// @vitest-environment jsdom
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  dispatch,
  isTextField,
  register,
  registered,
  setSingleKeys,
  singleKeysOn,
  SINGLE_KEYS_STORAGE,
  type Command,
} from "./registry";
import { paletteOptions } from "./paletteOptions";

function press(key: string, target: Element = document.body, init: KeyboardEventInit = {}) {
  const event = new KeyboardEvent("keydown", { key, bubbles: true, cancelable: true, ...init });
  let handled = false;
  const listener = (e: Event) => {
    handled = dispatch(e as KeyboardEvent);
  };
  document.addEventListener("keydown", listener);
  target.dispatchEvent(event);
  document.removeEventListener("keydown", listener);
  return { handled, prevented: event.defaultPrevented };
}

function field(html: string): HTMLElement {
  document.body.innerHTML = html;
  return document.body.firstElementChild as HTMLElement;
}

describe("the command registry", () => {
  const runs: string[] = [];
  let unregister = () => undefined as void;
  const command = (id: string, keys: string, extra: Partial<Command> = {}): Command => ({
    id,
    title: id,
    group: "General",
    keys,
    run: () => void runs.push(id),
    ...extra,
  });

  beforeEach(() => {
    runs.length = 0;
    localStorage.clear();
    document.body.innerHTML = "";
    unregister = register(
      command("new-ticket", "c"),
      command("palette", "mod+k"),
      command("open-card", "o", { focused: true }),
    );
  });
  afterEach(() => unregister());

  it("runs a single key on the page and prevents its default", () => {
    expect(press("c")).toEqual({ handled: true, prevented: true });
    expect(runs).toEqual(["new-ticket"]);
  });

  it("ignores single keys inside text fields, but not on checkboxes or buttons", () => {
    for (const html of [
      "<input>",
      '<input type="search">',
      "<textarea></textarea>",
      "<select></select>",
      '<div contenteditable="true"></div>',
    ]) {
      const target = field(html);
      // jsdom has no isContentEditable: stand in for the browser's.
      if (target.hasAttribute("contenteditable"))
        Object.defineProperty(target, "isContentEditable", { value: true });
      expect(isTextField(target)).toBe(true);
      expect(press("c", target)).toEqual({ handled: false, prevented: false });
    }
    expect(runs).toEqual([]);
    expect(press("c", field('<input type="checkbox">')).handled).toBe(true);
    expect(press("c", field("<button>b</button>")).handled).toBe(true);
    expect(runs).toEqual(["new-ticket", "new-ticket"]);
  });

  it("ignores single keys with Ctrl, Cmd or Alt held (no Alt+letter bindings)", () => {
    for (const mod of ["ctrlKey", "metaKey", "altKey"] as const)
      expect(press("c", document.body, { [mod]: true }).handled).toBe(false);
    expect(runs).toEqual([]);
  });

  it("ignores single keys while a dialog is open", () => {
    field('<div role="dialog"></div>');
    expect(press("c").handled).toBe(false);
    expect(runs).toEqual([]);
  });

  it("opens the palette with Ctrl+K or Cmd+K, even inside a text field", () => {
    const input = field("<input>");
    expect(press("k", input, { ctrlKey: true }).prevented).toBe(true);
    expect(press("K", document.body, { metaKey: true }).handled).toBe(true);
    expect(press("k").handled).toBe(false);
    expect(press("k", document.body, { ctrlKey: true, altKey: true }).handled).toBe(false);
    expect(runs).toEqual(["palette", "palette"]);
  });

  it("turns single keys off and on again, remembered in localStorage", () => {
    setSingleKeys(false);
    expect(localStorage.getItem(SINGLE_KEYS_STORAGE)).toBe("off");
    expect(singleKeysOn()).toBe(false);
    expect(press("c")).toEqual({ handled: false, prevented: false });
    // Ctrl+K and the focused control's own keys stay.
    expect(press("k", document.body, { ctrlKey: true }).handled).toBe(true);
    expect(press("o").handled).toBe(true);
    expect(runs).toEqual(["palette", "open-card"]);
    setSingleKeys(true);
    expect(singleKeysOn()).toBe(true);
    expect(press("c").handled).toBe(true);
  });

  it("lets a command decline (false): the key keeps its default", () => {
    const decline = register(command("decline", "Enter", { run: () => false }));
    expect(press("Enter")).toEqual({ handled: false, prevented: false });
    decline();
  });

  it("unregisters only its own command when an id was replaced", () => {
    const first = register(command("x", "x"));
    const second = register(command("x", "x", { title: "second" }));
    first();
    expect(registered().find((c) => c.id === "x")?.title).toBe("second");
    second();
    expect(registered().find((c) => c.id === "x")).toBeUndefined();
  });
});

describe("paletteOptions", () => {
  const went: string[] = [];
  const actions = {
    goToTicket: (key: string) => void went.push(`go ${key}`),
    search: (q: string) => void went.push(`search ${q}`),
  };
  const commands: Command[] = [
    { id: "new-ticket", title: "New ticket", group: "General", keys: "c", run: () => undefined },
    { id: "nav:Tickets", title: "Go to Tickets", group: "Navigation", run: () => undefined },
    { id: "j", title: "Next ticket", group: "Queue", keys: "j", palette: false, run: () => false },
  ];

  it("offers Go to for a ticket key, then search, then matching commands", () => {
    const options = paletteOptions(" desk-42 ", commands, actions);
    expect(options.map((o) => o.title)).toEqual(["Go to DESK-42", "Search tickets for “desk-42”"]);
    options[0]!.run();
    options[1]!.run();
    expect(went).toEqual(["go DESK-42", "search desk-42"]);
  });

  it("lists palette commands by title, never the contextual ones", () => {
    expect(paletteOptions("", commands, actions).map((o) => o.id)).toEqual([
      "new-ticket",
      "nav:Tickets",
    ]);
    expect(paletteOptions("ticket", commands, actions).map((o) => o.title)).toEqual([
      "Search tickets for “ticket”",
      "New ticket",
      "Go to Tickets",
    ]);
    expect(paletteOptions("ticket", commands, { goToTicket: actions.goToTicket }).length).toBe(2);
  });
});
