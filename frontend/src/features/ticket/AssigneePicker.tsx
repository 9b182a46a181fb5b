// Assign: a menu of the project's staff, each with their open load ("Bob Builder, 3 open"), plus
// Unassigned. Agents may take a ticket themselves; leads and up assign anyone (the server decides).
import * as DropdownMenu from "@radix-ui/react-dropdown-menu";
import { useQuery } from "@tanstack/react-query";
import { assigneesQuery, ticketWrites } from "../../api/ticket";
import type { TicketDetail } from "../../api/ticketTypes";
import type { Role } from "./roles";
import { useTicketWrite } from "./useTicketWrite";

export function loadText(open: number): string {
  return open === 1 ? "1 open" : `${open} open`;
}

export function AssigneePicker({ ticket }: { ticket: TicketDetail; role: Role | null }) {
  const { run, busy } = useTicketWrite(ticket);
  const people = useQuery(assigneesQuery(ticket.project));
  const current = people.data?.find((p) => p.username === ticket.assignee);
  const shown = current?.full_name || ticket.assignee || "Unassigned";
  const assign = (username: string | null, name: string) =>
    void run(
      () => ticketWrites.assign(ticket.id, username),
      username ? `Assigned to ${name}.` : "Unassigned.",
    );
  return (
    <DropdownMenu.Root>
      <DropdownMenu.Trigger className="menu-button" disabled={busy}>
        Assignee: {shown} <span aria-hidden="true">▾</span>
      </DropdownMenu.Trigger>
      <DropdownMenu.Portal>
        <DropdownMenu.Content className="menu" align="start" sideOffset={4}>
          <DropdownMenu.Label className="menu-label">Assign to (open tickets)</DropdownMenu.Label>
          {people.isError && (
            <DropdownMenu.Item className="menu-item" disabled>
              Could not load people
            </DropdownMenu.Item>
          )}
          {(people.data ?? []).map((p) => (
            <DropdownMenu.Item
              key={p.username}
              className="menu-item assignee-item"
              onSelect={() => assign(p.username, p.full_name || p.username)}
            >
              <span>
                {p.full_name || p.username}
                {p.username === ticket.assignee ? " (assigned)" : ""}
              </span>
              <span className="load">{loadText(p.open_tickets)}</span>
            </DropdownMenu.Item>
          ))}
          <DropdownMenu.Separator className="menu-separator" />
          <DropdownMenu.Item className="menu-item" onSelect={() => assign(null, "")}>
            Unassigned
          </DropdownMenu.Item>
        </DropdownMenu.Content>
      </DropdownMenu.Portal>
    </DropdownMenu.Root>
  );
}
