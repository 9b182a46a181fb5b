// The route registry: every page under the signed-in shell. Part-2 features add their routes here.
import { homeRoute } from "./homeRoute";
import { boardRoute } from "../features/board/routes";
import { queueRoute } from "../features/queue/routes";
import { exportsRoute } from "../features/exports/routes";
import { ticketRoute } from "../features/ticket/routes";
import { inboxRoute } from "../features/inbox/routes";
import { dashboardRoute } from "../features/dashboard/routes";
import { portalRoute, portalTicketRoute } from "../features/portal/routes";
import { settingsRoute } from "../features/settings/routes";

export const shellChildren = [
  homeRoute,
  boardRoute,
  queueRoute,
  exportsRoute,
  ticketRoute,
  inboxRoute,
  dashboardRoute,
  portalRoute,
  portalTicketRoute,
  settingsRoute,
] as const;
