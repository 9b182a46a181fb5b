import { createRoute } from "@tanstack/react-router";
import { shellRoute } from "../../app/shellRoute";
import { PortalPage } from "./PortalPage";
import { PortalTicketPage } from "./PortalTicketPage";

export const portalRoute = createRoute({
  getParentRoute: () => shellRoute,
  path: "/portal",
  component: PortalPage,
});

export const portalTicketRoute = createRoute({
  getParentRoute: () => shellRoute,
  path: "/portal/tickets/$key",
  component: function PortalTicketRoute() {
    const { key } = portalTicketRoute.useParams();
    return <PortalTicketPage key={key} ticketKey={key} />;
  },
});
