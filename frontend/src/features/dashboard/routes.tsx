import { createRoute } from "@tanstack/react-router";
import { shellRoute } from "../../app/shellRoute";
import type { StatsFilters } from "../../api/stats";
import { NotFound } from "../../app/NotFound";
import { isStaff } from "../../app/nav";
import { DashboardPage } from "./DashboardPage";

const DATE = /^\d{4}-\d{2}-\d{2}$/;

export function parseDashboardSearch(search: Record<string, unknown>): StatsFilters {
  const out: StatsFilters = {};
  if (typeof search.project === "string" && search.project) out.project = search.project;
  for (const name of ["created_after", "created_before"] as const) {
    const value = search[name];
    if (typeof value === "string" && DATE.test(value)) out[name] = value;
  }
  return out;
}

export const dashboardRoute = createRoute({
  getParentRoute: () => shellRoute,
  path: "/dashboard",
  validateSearch: parseDashboardSearch,
  component: function DashboardRoute() {
    const { me } = dashboardRoute.useRouteContext();
    if (!isStaff(me)) return <NotFound />;
    return <DashboardPage />;
  },
});
