// The conversation, oldest first: public replies, and internal notes drawn apart with the visible
// label "Internal note"; the composer below.
import { useQuery } from "@tanstack/react-query";
import { messagesQuery } from "../../api/ticket";
import type { Message, TicketDetail } from "../../api/ticketTypes";
import { messageOf } from "../../api/errors";
import { initials } from "../../app/Shell";
import { Composer } from "./Composer";
import type { TicketLive } from "./useTicketLive";
import { atLeast, type Role } from "./roles";

export function Conversation({
  ticket,
  live,
  role,
}: {
  ticket: TicketDetail;
  live: TicketLive;
  role: Role | null;
}) {
  const messages = useQuery(messagesQuery(ticket.id));
  return (
    <div className="conversation">
      {ticket.description && (
        <section className="description" aria-label="Description">
          <p>{ticket.description}</p>
        </section>
      )}
      {messages.isPending && <p className="loading">Loading the conversation…</p>}
      {messages.isError && (
        <div role="alert" className="inline-error">
          {messageOf(messages.error)}{" "}
          <button type="button" onClick={() => void messages.refetch()}>
            Retry
          </button>
        </div>
      )}
      {messages.data && (
        <ol className="messages" aria-label="Messages">
          {messages.data.length === 0 && <li className="empty">No messages yet.</li>}
          {messages.data.map((m) => (
            <MessageItem key={m.id} message={m} />
          ))}
        </ol>
      )}
      <Composer ticket={ticket} live={live} canNote={atLeast(role, "agent")} />
    </div>
  );
}

function MessageItem({ message }: { message: Message }) {
  const author = message.author ?? "Someone";
  return (
    <li className={message.internal ? "message message-internal" : "message"}>
      <div className="message-head">
        <span className="avatar small-avatar" aria-hidden="true">
          {initials(author)}
        </span>
        <strong>{author}</strong>
        {message.internal && <span className="badge internal-label">Internal note</span>}
        <time dateTime={message.created_at}>{new Date(message.created_at).toLocaleString()}</time>
      </div>
      <p className="message-body">{message.body}</p>
    </li>
  );
}
