import { createRoute } from "@tanstack/react-router";
import { shellRoute } from "../../app/shellRoute";
import { ExportsPage } from "./ExportsPage";

export const exportsRoute = createRoute({
  getParentRoute: () => shellRoute,
  path: "/exports",
  validateSearch: (search: Record<string, unknown>): { cursor?: string } =>
    typeof search.cursor === "string" && search.cursor ? { cursor: search.cursor } : {},
  component: function ExportsRoute() {
    const { cursor } = exportsRoute.useSearch();
    return <ExportsPage cursor={cursor ?? null} />;
  },
});
