import { createRoute } from "@tanstack/react-router";
import { shellRoute } from "../../app/shellRoute";
import { NotFound } from "../../app/NotFound";
import { isStaffOf } from "../../api/session";
import { BoardPage } from "./BoardPage";

export const boardRoute = createRoute({
  getParentRoute: () => shellRoute,
  path: "/projects/$key/board",
  component: function BoardRoute() {
    const { key } = boardRoute.useParams();
    const { me } = boardRoute.useRouteContext();
    // Customers (and people outside the project) never see a board: "not found", no request.
    if (!isStaffOf(me, key)) return <NotFound />;
    return <BoardPage key={key} project={key} />;
  },
});
