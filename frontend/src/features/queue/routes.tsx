import { createRoute } from "@tanstack/react-router";
import { shellRoute } from "../../app/shellRoute";
import { QueuePage } from "./QueuePage";
import { validateQueueSearch } from "./search";

export const queueRoute = createRoute({
  getParentRoute: () => shellRoute,
  path: "/tickets",
  validateSearch: validateQueueSearch,
  component: function QueueRoute() {
    return <QueuePage search={queueRoute.useSearch()} />;
  },
});
