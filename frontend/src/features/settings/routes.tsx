import { createRoute } from "@tanstack/react-router";
import { shellRoute } from "../../app/shellRoute";
import { NotFound } from "../../app/NotFound";
import { isAdminOf } from "../ticket/roles";
import { SettingsPage } from "./SettingsPage";

export const settingsRoute = createRoute({
  getParentRoute: () => shellRoute,
  path: "/projects/$key/settings",
  component: function SettingsRoute() {
    const { key } = settingsRoute.useParams();
    const { me } = settingsRoute.useRouteContext();
    // Project admins only (the API's rule for column and member writes); anyone else: not found.
    if (!isAdminOf(me, key)) return <NotFound />;
    return <SettingsPage key={key} project={key} />;
  },
});
