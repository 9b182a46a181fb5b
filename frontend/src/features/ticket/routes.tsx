import { createRoute } from "@tanstack/react-router";
import { shellRoute } from "../../app/shellRoute";
import { messagesQuery, ticketByKeyQuery } from "../../api/ticket";
import { TicketPage } from "./TicketPage";

// `$ticketKey`, not `$key`: the shell reads `key` as the current project.
export const ticketRoute = createRoute({
  getParentRoute: () => shellRoute,
  path: "/tickets/$ticketKey",
  // The ticket, then its conversation, start as soon as the route matches (or on a link's hover)
  // instead of one after the other behind the page's renders; nothing waits for them here.
  loader: ({ context, params }) => {
    const { queryClient } = context;
    void queryClient
      .fetchQuery(ticketByKeyQuery(params.ticketKey.toUpperCase()))
      .then((ticket) => queryClient.prefetchQuery(messagesQuery(ticket.id)))
      .catch(() => undefined); // the page shows its own not-found and error states
  },
  component: function TicketRoute() {
    const { ticketKey } = ticketRoute.useParams();
    return <TicketPage key={ticketKey} ticketKey={ticketKey.toUpperCase()} />;
  },
});
