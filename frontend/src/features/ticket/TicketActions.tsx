// The actions toolbar: status (allowed transitions only), assign (with each agent's open load),
// escalate, acknowledge, resolve with a summary, reopen, archive.
import * as DropdownMenu from "@radix-ui/react-dropdown-menu";
import { useQuery } from "@tanstack/react-query";
import { useNavigate } from "@tanstack/react-router";
import { projectQuery, statusesQuery, ticketWrites } from "../../api/ticket";
import type { TicketDetail } from "../../api/ticketTypes";
import { showToast } from "../../ui/toast";
import { ActionDialog } from "./ActionDialog";
import { AssigneePicker } from "./AssigneePicker";
import { allowedTargets } from "./transitions";
import { atLeast, type Role } from "./roles";
import { useTicketWrite } from "./useTicketWrite";

export function TicketActions({ ticket, role }: { ticket: TicketDetail; role: Role | null }) {
  const { apply } = useTicketWrite(ticket);
  const navigate = useNavigate();
  const done = ticket.status_category === "done";
  const agent = atLeast(role, "agent");
  if (!agent) return null;
  return (
    <div className="ticket-actions" role="toolbar" aria-label="Ticket actions">
      <StatusMenu ticket={ticket} />
      <AssigneePicker ticket={ticket} role={role} />
      {atLeast(role, "lead") && (
        <ActionDialog
          trigger={<button type="button">Escalate</button>}
          title={`Escalate ${ticket.key}`}
          fieldLabel="Reason"
          fieldName="reason"
          submitLabel="Escalate"
          submit={(reason) => ticketWrites.escalate(ticket.id, reason)}
          onDone={(r) => {
            apply(r);
            showToast(`${ticket.key} escalated.`);
          }}
        />
      )}
      {(ticket.sla?.escalation_level ?? 0) > 0 && (
        <button
          type="button"
          onClick={() =>
            void ticketWrites.acknowledge(ticket.id).then(
              (r) => {
                apply(r);
                showToast("Escalation acknowledged.");
              },
              (e: unknown) => showToast(e instanceof Error ? e.message : String(e), "error"),
            )
          }
        >
          Acknowledge escalation
        </button>
      )}
      {done ? (
        <ActionDialog
          trigger={<button type="button">Reopen</button>}
          title={`Reopen ${ticket.key}`}
          fieldLabel="Reason"
          fieldName="reason"
          submitLabel="Reopen ticket"
          submit={(reason) => ticketWrites.reopen(ticket.id, reason)}
          onDone={(r) => {
            apply(r);
            showToast(`${ticket.key} reopened.`);
          }}
        />
      ) : (
        <ActionDialog
          trigger={
            <button type="button" className="primary">
              Resolve
            </button>
          }
          title={`Resolve ${ticket.key}`}
          fieldLabel="Resolution summary"
          fieldName="summary"
          submitLabel="Resolve ticket"
          submit={(summary) => ticketWrites.resolve(ticket.id, summary)}
          onDone={(r) => {
            apply(r);
            showToast(`${ticket.key} resolved.`);
          }}
        />
      )}
      {!ticket.is_archived && (
        <ActionDialog
          trigger={<button type="button">Archive</button>}
          title={`Archive ${ticket.key}?`}
          submitLabel="Archive ticket"
          submit={() => ticketWrites.archive(ticket.id)}
          onDone={() => {
            showToast(`${ticket.key} archived.`);
            void navigate({ to: "/projects/$key/board", params: { key: ticket.project } });
          }}
        >
          <p>It leaves the board and the queue; it can be found with the archived filter.</p>
        </ActionDialog>
      )}
    </div>
  );
}

function StatusMenu({ ticket }: { ticket: TicketDetail }) {
  const { run, busy } = useTicketWrite(ticket);
  const statuses = useQuery(statusesQuery);
  const project = useQuery(projectQuery(ticket.project));
  const targets = allowedTargets(statuses.data ?? [], project.data?.workflow, ticket.status);
  return (
    <DropdownMenu.Root>
      <DropdownMenu.Trigger className="menu-button" disabled={busy}>
        Status: {ticket.status_name} <span aria-hidden="true">▾</span>
      </DropdownMenu.Trigger>
      <DropdownMenu.Portal>
        <DropdownMenu.Content className="menu" align="start" sideOffset={4}>
          <DropdownMenu.Label className="menu-label">Move to</DropdownMenu.Label>
          {targets.length === 0 && (
            <DropdownMenu.Item className="menu-item" disabled>
              {statuses.isPending ? "Loading…" : "No other status allowed"}
            </DropdownMenu.Item>
          )}
          {targets.map((s) => (
            <DropdownMenu.Item
              key={s.key}
              className="menu-item"
              onSelect={() =>
                void run(
                  () => ticketWrites.setStatus(ticket.id, s.key),
                  `${ticket.key} is now ${s.name}.`,
                )
              }
            >
              {s.name}
            </DropdownMenu.Item>
          ))}
        </DropdownMenu.Content>
      </DropdownMenu.Portal>
    </DropdownMenu.Root>
  );
}
