// The route registry: every page under the signed-in shell. Part-2 features add their routes here.
import { homeRoute } from "./homeRoute";
import { boardRoute } from "../features/board/routes";
import { inboxRoute } from "../features/inbox/routes";
import { dashboardRoute } from "../features/dashboard/routes";
import { portalRoute, portalTicketRoute } from "../features/portal/routes";

export const shellChildren = [
  homeRoute,
  boardRoute,
  inboxRoute,
  dashboardRoute,
  portalRoute,
  portalTicketRoute,
] as const;
