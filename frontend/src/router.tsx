import { createRouter, parseSearchWith, stringifySearchWith } from "@tanstack/react-router";
import { QueryClient } from "@tanstack/react-query";
import { rootRoute, shellRoute } from "./app/shellRoute";
import { shellChildren } from "./app/routes";
import { loginRoute } from "./features/auth/routes";
import { ApiError } from "./api/errors";

export const queryClient = new QueryClient({
  defaultOptions: {
    queries: {
      retry: (count, error) =>
        !(error instanceof ApiError && error.status >= 400 && error.status < 500) && count < 2,
    },
  },
});

const routeTree = rootRoute.addChildren([loginRoute, shellRoute.addChildren([...shellChildren])]);

// Query parameters stay plain strings (`?status=new,open&q=42`): the queue's URL is the API's
// query string, so nothing is JSON-encoded or decoded, and commas stay readable (ADR 0015).
function keepString(): never {
  throw new Error("search values stay strings");
}
const plainSearch = stringifySearchWith(JSON.stringify);

export const router = createRouter({
  routeTree,
  context: { queryClient },
  defaultPreload: "intent",
  scrollRestoration: true,
  parseSearch: parseSearchWith(keepString),
  stringifySearch: (search) => plainSearch(search).replace(/%2C/gi, ","),
});

declare module "@tanstack/react-router" {
  interface Register {
    router: typeof router;
  }
}
