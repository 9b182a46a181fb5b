// The ticket's fields: priority, category, sensitive flag (editable by staff), requester, linked
// entity, tags, escalation level.
import { useQuery } from "@tanstack/react-query";
import { projectQuery, ticketWrites, type TicketEdit } from "../../api/ticket";
import type { TicketDetail } from "../../api/ticketTypes";
import type { Priority } from "../../api/types";
import { atLeast, type Role } from "./roles";
import { useTicketWrite } from "./useTicketWrite";

export const PRIORITIES: Priority[] = ["low", "medium", "high", "critical"];

export function TicketDetails({ ticket, role }: { ticket: TicketDetail; role: Role | null }) {
  const { run, busy } = useTicketWrite(ticket);
  const project = useQuery(projectQuery(ticket.project));
  const staff = atLeast(role, "agent");
  const categories = project.data?.categories ?? [];
  const edit = (body: TicketEdit, done: string) =>
    void run(() => ticketWrites.edit(ticket.id, body), done);
  return (
    <section className="side-section" aria-labelledby="fields-heading">
      <h2 id="fields-heading">Fields</h2>
      <dl className="fields">
        <dt>
          <label htmlFor="field-priority">Priority</label>
        </dt>
        <dd>
          <select
            id="field-priority"
            value={ticket.priority}
            disabled={!staff || busy}
            onChange={(e) => edit({ priority: e.target.value as Priority }, "Priority saved.")}
          >
            {PRIORITIES.map((p) => (
              <option key={p} value={p}>
                {p}
              </option>
            ))}
          </select>
        </dd>
        <dt>
          <label htmlFor="field-category">Category</label>
        </dt>
        <dd>
          <select
            id="field-category"
            value={ticket.category}
            disabled={!staff || busy}
            onChange={(e) => edit({ category: e.target.value }, "Category saved.")}
          >
            {[...new Set([ticket.category, ...categories])].map((c) => (
              <option key={c} value={c}>
                {c}
              </option>
            ))}
          </select>
        </dd>
        <dt>Escalation level</dt>
        <dd>{ticket.sla?.escalation_level ?? 0}</dd>
        <dt>Requester</dt>
        <dd>{ticket.requester ?? "—"}</dd>
        <dt>Linked</dt>
        <dd>{ticket.linked_type ? `${ticket.linked_type} ${ticket.linked_id}` : "—"}</dd>
        <dt>Tags</dt>
        <dd>{ticket.tags.length ? ticket.tags.join(", ") : "—"}</dd>
      </dl>
      <label className="check">
        <input
          type="checkbox"
          checked={ticket.is_sensitive}
          disabled={!staff || busy}
          onChange={(e) =>
            edit(
              { is_sensitive: e.target.checked },
              e.target.checked ? "Marked sensitive." : "No longer sensitive.",
            )
          }
        />
        Sensitive (views are audited)
      </label>
      {ticket.resolution_summary && (
        <p className="resolution">
          <strong>Resolution:</strong> {ticket.resolution_summary}
        </p>
      )}
    </section>
  );
}
