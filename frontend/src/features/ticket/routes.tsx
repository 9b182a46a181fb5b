import { createRoute } from "@tanstack/react-router";
import { shellRoute } from "../../app/shellRoute";
import { TicketPage } from "./TicketPage";

// `$ticketKey`, not `$key`: the shell reads `key` as the current project.
export const ticketRoute = createRoute({
  getParentRoute: () => shellRoute,
  path: "/tickets/$ticketKey",
  component: function TicketRoute() {
    const { ticketKey } = ticketRoute.useParams();
    return <TicketPage key={ticketKey} ticketKey={ticketKey.toUpperCase()} />;
  },
});
