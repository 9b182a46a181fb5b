import { createRoute, redirect } from "@tanstack/react-router";
import { rootRoute } from "../../app/shellRoute";
import { meQuery } from "../../api/session";
import { LoginPage } from "./LoginPage";
import { safeNext } from "./next";

export const loginRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: "/login",
  validateSearch: (search: Record<string, unknown>): { next?: string } =>
    typeof search.next === "string" ? { next: search.next } : {},
  beforeLoad: async ({ context, search }) => {
    const me = await context.queryClient.ensureQueryData(meQuery);
    if (me) throw redirect({ href: safeNext(search.next) });
  },
  component: function Login() {
    const { next } = loginRoute.useSearch();
    return <LoginPage next={next} />;
  },
});
