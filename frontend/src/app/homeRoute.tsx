// `/`: staff go to their first project's board, customers to the portal.
import { createRoute, redirect } from "@tanstack/react-router";
import { shellRoute } from "./shellRoute";

export const homeRoute = createRoute({
  getParentRoute: () => shellRoute,
  path: "/",
  beforeLoad: ({ context }) => {
    const staff = context.me.memberships.find((m) => m.role !== "customer");
    if (staff) throw redirect({ to: "/projects/$key/board", params: { key: staff.project } });
    throw redirect({ href: "/portal" });
  },
});
