import { createRoute } from "@tanstack/react-router";
import { shellRoute } from "../../app/shellRoute";
import { NotFound } from "../../app/NotFound";
import { isStaffOf } from "../../api/session";
import { boardQuery } from "../../api/board";
import { BoardPage } from "./BoardPage";

export const boardRoute = createRoute({
  getParentRoute: () => shellRoute,
  path: "/projects/$key/board",
  // The board's request starts as soon as the route matches (right after `me`, or on a link's
  // hover), not after the shell and the page have rendered; nothing waits for it here.
  loader: ({ context, params }) => {
    if (isStaffOf(context.me, params.key))
      void context.queryClient.prefetchQuery(boardQuery(params.key));
  },
  component: function BoardRoute() {
    const { key } = boardRoute.useParams();
    const { me } = boardRoute.useRouteContext();
    // Customers (and people outside the project) never see a board: "not found", no request.
    if (!isStaffOf(me, key)) return <NotFound />;
    return <BoardPage key={key} project={key} />;
  },
});
