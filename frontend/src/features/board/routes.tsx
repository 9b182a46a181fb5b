import { createRoute } from "@tanstack/react-router";
import { shellRoute } from "../../app/shellRoute";
import { BoardPage } from "./BoardPage";

export const boardRoute = createRoute({
  getParentRoute: () => shellRoute,
  path: "/projects/$key/board",
  component: function BoardRoute() {
    const { key } = boardRoute.useParams();
    return <BoardPage key={key} project={key} />;
  },
});
