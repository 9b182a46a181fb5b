// The root and the signed-in shell routes. Features hang their routes under `shellRoute`
// (see app/routes.ts) and their links in app/nav.ts; nothing here imports a feature.
import { createRootRouteWithContext, createRoute, redirect, Outlet } from "@tanstack/react-router";
import type { QueryClient } from "@tanstack/react-query";
import { meQuery } from "../api/session";
import { Shell } from "./Shell";
import { NotFound } from "./NotFound";
import { Toaster } from "../ui/toast";

export interface RouterContext {
  queryClient: QueryClient;
}

export const rootRoute = createRootRouteWithContext<RouterContext>()({
  component: () => (
    <>
      <Outlet />
      <Toaster />
    </>
  ),
  notFoundComponent: NotFound,
});

/** Every route below needs a signed-in user; `me` is in the cache for them. */
export const shellRoute = createRoute({
  getParentRoute: () => rootRoute,
  id: "shell",
  beforeLoad: async ({ context, location }) => {
    const me = await context.queryClient.ensureQueryData(meQuery);
    if (!me) throw redirect({ to: "/login", search: { next: location.href } });
    return { me };
  },
  component: Shell,
  notFoundComponent: NotFound,
});
