// What the palette offers for a query: "Go to DESK-42" for a ticket key, "Search tickets for …" for
// other text, then the registered commands whose title contains the query.
import type { Command } from "./registry";

export interface PaletteOption {
  id: string;
  title: string;
  group: string;
  keys?: string;
  run(): void;
}

export const TICKET_KEY = /^[A-Za-z][A-Za-z0-9_]*-\d+$/;

export interface PaletteActions {
  goToTicket(key: string): void;
  /** Absent when the person cannot search the queue (customers). */
  search?(text: string): void;
}

export function paletteOptions(
  query: string,
  commands: Command[],
  actions: PaletteActions,
): PaletteOption[] {
  const text = query.trim();
  const options: PaletteOption[] = [];
  if (TICKET_KEY.test(text)) {
    const key = text.toUpperCase();
    options.push({
      id: "go-to-ticket",
      title: `Go to ${key}`,
      group: "Tickets",
      run: () => actions.goToTicket(key),
    });
  }
  const search = actions.search;
  if (text && search) {
    options.push({
      id: "search-tickets",
      title: `Search tickets for “${text}”`,
      group: "Tickets",
      run: () => search(text),
    });
  }
  const needle = text.toLowerCase();
  for (const command of commands) {
    if (command.palette === false || !command.title.toLowerCase().includes(needle)) continue;
    options.push({
      id: command.id,
      title: command.title,
      group: command.group,
      keys: command.keys,
      run: () => void command.run(),
    });
  }
  return options;
}
