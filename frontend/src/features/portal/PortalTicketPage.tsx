// `/portal/tickets/{KEY}`: one of the customer's tickets and its public conversation.
import { useState, type FormEvent } from "react";
import { Link } from "@tanstack/react-router";
import { useQuery } from "@tanstack/react-query";
import { portalMessagesQuery, portalTicketQuery, useReply } from "../../api/portal";
import { ApiError, messageOf } from "../../api/errors";
import { ErrorPanel, NotFound } from "../../app/NotFound";
import { showToast } from "../../ui/toast";

export function PortalTicketPage({ ticketKey }: { ticketKey: string }) {
  const ticket = useQuery(portalTicketQuery(ticketKey));
  if (ticket.isPending) return <p role="status">Loading {ticketKey}…</p>;
  if (ticket.isError) {
    if (ticket.error instanceof ApiError && [403, 404].includes(ticket.error.status))
      return <NotFound />;
    return <ErrorPanel message={messageOf(ticket.error)} onRetry={() => void ticket.refetch()} />;
  }
  const t = ticket.data;
  return (
    <article className="portal" aria-labelledby="portal-ticket-title">
      <p>
        <Link to="/portal">← Your requests</Link>
      </p>
      <h1 id="portal-ticket-title">
        {t.key} {t.title}
      </h1>
      <p>
        <span className="badge">{t.status_name ?? t.status}</span>
      </p>
      {t.description && <p className="portal-description">{t.description}</p>}
      <Conversation ticketId={t.id} />
    </article>
  );
}

function Conversation({ ticketId }: { ticketId: number }) {
  const messages = useQuery(portalMessagesQuery(ticketId));
  const reply = useReply(ticketId);
  const [body, setBody] = useState("");

  async function send(e: FormEvent) {
    e.preventDefault();
    try {
      await reply.mutateAsync(body);
      setBody("");
    } catch (error) {
      showToast(messageOf(error), "error");
    }
  }

  return (
    <section aria-labelledby="conversation-title">
      <h2 id="conversation-title">Conversation</h2>
      {messages.isPending ? (
        <p role="status">Loading the conversation…</p>
      ) : messages.isError ? (
        <ErrorPanel message={messageOf(messages.error)} onRetry={() => void messages.refetch()} />
      ) : messages.data.results.length === 0 ? (
        <p className="empty">No replies yet.</p>
      ) : (
        <ol className="conversation" aria-label="Messages">
          {messages.data.results.map((m) => (
            <li key={m.id} className="message">
              <p className="message-meta">
                {m.author ?? "Someone"} ·{" "}
                <time dateTime={m.created_at}>{new Date(m.created_at).toLocaleString()}</time>
              </p>
              <p className="message-body">{m.body}</p>
            </li>
          ))}
        </ol>
      )}
      <form className="portal-form" aria-label="Reply" onSubmit={(e) => void send(e)}>
        <label>
          Your reply
          <textarea value={body} onChange={(e) => setBody(e.target.value)} rows={3} required />
        </label>
        <button type="submit" className="primary" disabled={reply.isPending || !body.trim()}>
          Send reply
        </button>
      </form>
    </section>
  );
}
