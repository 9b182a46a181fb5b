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

export const router = createRouter({
  routeTree,
  context: { queryClient },
  defaultPreload: "intent",
  scrollRestoration: true,
  // Query parameters stay plain strings (`?status=new,open&q=42`): the queue's URL is the API's
  // query string, so nothing is JSON-encoded or decoded (ADR 0015).
  parseSearch: parseSearchWith(keepString),
  stringifySearch: (search) => plainSearch(search).replace(/%2C/gi, ","),
});

const plainSearch = stringifySearchWith(JSON.stringify);

function keepString(): never {
  throw new Error("search values stay strings");
}

declare module "@tanstack/react-router" {
  interface Register {
    router: typeof router;
  }
}
