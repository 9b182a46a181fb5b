import { createRoute } from "@tanstack/react-router";
import { shellRoute } from "../../app/shellRoute";
import { InboxPage } from "./InboxPage";

export const inboxRoute = createRoute({
  getParentRoute: () => shellRoute,
  path: "/inbox",
  component: InboxPage,
});
