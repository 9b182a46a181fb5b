// The level-1 heading "DESK-42 Printer on fire"; the title edits in place (Enter saves, Escape
// cancels) through PATCH tickets/{id}/.
import { useState, type FormEvent } from "react";
import type { TicketDetail } from "../../api/ticketTypes";
import { ticketWrites } from "../../api/ticket";
import { useTicketWrite } from "./useTicketWrite";

export function TicketHeader({ ticket }: { ticket: TicketDetail }) {
  const [editing, setEditing] = useState(false);
  const [title, setTitle] = useState(ticket.title);
  const { run, busy } = useTicketWrite(ticket);

  async function save(event: FormEvent) {
    event.preventDefault();
    const next = title.trim();
    if (next === "" || next === ticket.title) {
      setEditing(false);
      return;
    }
    if (await run(() => ticketWrites.edit(ticket.id, { title: next }), "Title saved."))
      setEditing(false);
  }

  return (
    <header className="ticket-header">
      {editing ? (
        <form className="title-form" onSubmit={(e) => void save(e)}>
          <h1 className="ticket-title">
            <span className="ticket-key">{ticket.key}</span>{" "}
            <input
              aria-label="Title"
              value={title}
              autoFocus
              maxLength={300}
              onChange={(e) => setTitle(e.target.value)}
              onKeyDown={(e) => {
                if (e.key === "Escape") {
                  setTitle(ticket.title);
                  setEditing(false);
                }
              }}
            />
          </h1>
          <button type="submit" className="primary" disabled={busy}>
            Save title
          </button>
          <button
            type="button"
            onClick={() => {
              setTitle(ticket.title);
              setEditing(false);
            }}
          >
            Cancel
          </button>
        </form>
      ) : (
        <div className="title-row">
          <h1 className="ticket-title">
            <span className="ticket-key">{ticket.key}</span> {ticket.title}
          </h1>
          <button
            type="button"
            className="ghost"
            onClick={() => {
              setTitle(ticket.title);
              setEditing(true);
            }}
          >
            Edit title
          </button>
        </div>
      )}
      <p className="ticket-sub">
        <span className="badge status-badge">{ticket.status_name}</span>
        <span className={`badge priority-${ticket.priority}`}>Priority: {ticket.priority}</span>
        {ticket.requester && <span>Requested by {ticket.requester}</span>}
        <span>Created {new Date(ticket.created_at).toLocaleString()}</span>
      </p>
    </header>
  );
}
