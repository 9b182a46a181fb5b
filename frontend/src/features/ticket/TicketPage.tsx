// /tickets/{KEY}: the header (key + editable title), actions, the three tabs and the side panel
// (fields, SLA, watchers, who is here). Loading, not found and error states of their own.
import { useState } from "react";
import { useQuery } from "@tanstack/react-query";
import { ticketByKeyQuery } from "../../api/ticket";
import type { TicketDetail } from "../../api/ticketTypes";
import { meQuery } from "../../api/session";
import { ApiError, messageOf } from "../../api/errors";
import { ErrorPanel, NotFound } from "../../app/NotFound";
import { Tabs } from "../../ui/Tabs";
import { TicketHeader } from "./TicketHeader";
import { TicketActions } from "./TicketActions";
import { TicketDetails } from "./TicketDetails";
import { SlaPanel } from "./SlaPanel";
import { Watchers } from "./Watchers";
import { Conversation } from "./Conversation";
import { Activity } from "./Activity";
import { Attachments } from "./Attachments";
import { PresencePanel } from "./PresencePanel";
import { useTicketLive, type TicketLive } from "./useTicketLive";
import { roleIn, type Role } from "./roles";
import "./ticket.css";

export function TicketPage({ ticketKey }: { ticketKey: string }) {
  const ticket = useQuery(ticketByKeyQuery(ticketKey));
  if (ticket.isPending)
    return (
      <p className="loading" role="status">
        Loading {ticketKey}…
      </p>
    );
  if (ticket.isError) {
    if (ticket.error instanceof ApiError && ticket.error.status === 404) return <NotFound />;
    return <ErrorPanel message={messageOf(ticket.error)} onRetry={() => void ticket.refetch()} />;
  }
  return <TicketView ticket={ticket.data} />;
}

function TicketView({ ticket }: { ticket: TicketDetail }) {
  const { data: me } = useQuery(meQuery);
  const role = me ? roleIn(me, ticket.project) : null;
  const live = useTicketLive(ticket.project, ticket.id, ticket.key);
  const [tab, setTab] = useState("conversation");
  return (
    <article className="ticket-page">
      <TicketHeader ticket={ticket} />
      {ticket.is_archived && (
        <p className="notice" role="note">
          This ticket is archived.
        </p>
      )}
      {ticket.is_sensitive && (
        <p className="notice notice-sensitive" role="note">
          <span aria-hidden="true">🔒</span> Sensitive ticket: views of it and of its attachments
          are audited.
        </p>
      )}
      <TicketActions ticket={ticket} role={role} />
      <div className="ticket-layout">
        <section className="ticket-main" aria-label="Ticket work">
          <Tabs
            label="Ticket sections"
            selected={tab}
            onSelect={setTab}
            tabs={[
              {
                id: "conversation",
                label: "Conversation",
                panel: () => <Conversation ticket={ticket} live={live} role={role} />,
              },
              { id: "activity", label: "Activity", panel: () => <Activity ticketId={ticket.id} /> },
              {
                id: "attachments",
                label: "Attachments",
                panel: () => <Attachments ticket={ticket} />,
              },
            ]}
          />
        </section>
        <Side ticket={ticket} role={role} live={live} />
      </div>
    </article>
  );
}

function Side({
  ticket,
  role,
  live,
}: {
  ticket: TicketDetail;
  role: Role | null;
  live: TicketLive;
}) {
  return (
    <aside className="ticket-side" aria-label="Details">
      <PresencePanel live={live} ticketId={ticket.id} />
      <SlaPanel ticket={ticket} />
      <TicketDetails ticket={ticket} role={role} />
      <Watchers ticket={ticket} />
    </aside>
  );
}
