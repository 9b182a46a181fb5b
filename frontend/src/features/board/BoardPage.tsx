// The live board: columns in order, drag (pointer and keyboard) through dnd-kit, one move path,
// presence and indicators from the board socket.
import { useCallback, useMemo, useState } from "react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import {
  DndContext,
  DragOverlay,
  KeyboardSensor,
  PointerSensor,
  pointerWithin,
  rectIntersection,
  type CollisionDetection,
  useSensor,
  useSensors,
  type DragEndEvent,
  type DragOverEvent,
  type DragStartEvent,
} from "@dnd-kit/core";
import { sortableKeyboardCoordinates } from "@dnd-kit/sortable";
import { boardKey, boardQuery } from "../../api/board";
import { ApiError, messageOf } from "../../api/errors";
import type { Board } from "../../api/types";
import { ErrorPanel, NotFound } from "../../app/NotFound";
import { BoardContext, CardContext, type BoardCtx, type CardCtx } from "./context";
import { Column } from "./Column";
import { CardBody } from "./Card";
import { Presence } from "./Presence";
import { CardDrawer } from "./CardDrawer";
import { MoveAnnouncer } from "./announcer";
import { dragAnnouncements, type DropTarget } from "./dragAnnouncements";
import { locate, wipRefuses } from "./model";
import { useBoardLive, useIndicator } from "./useBoardLive";
import { useMove } from "./useMove";
import { useCommands } from "../../commands/registry";

/**
 * The pointer's column and card when there is a pointer (tall columns make corner distances pick
 * the wrong column); the dragged rectangle's overlaps for the keyboard. A card wins over its column.
 */
const collisions: CollisionDetection = (args) => {
  const hits = args.pointerCoordinates ? pointerWithin(args) : [];
  const found = hits.length > 0 ? hits : rectIntersection(args);
  const cardHit = found.find((hit) => String(hit.id).startsWith("t-"));
  return cardHit ? [cardHit] : found;
};

const reducedMotion = () =>
  window.matchMedia?.("(prefers-reduced-motion: reduce)").matches ?? false;

export function BoardPage({ project }: { project: string }) {
  const query = useQuery(boardQuery(project));
  const client = useQueryClient();
  const live = useBoardLive(project, query.isSuccess);
  const move = useMove(project);
  const [activeId, setActiveId] = useState<number | null>(null);
  const [openId, setOpenId] = useState<number | null>(null);
  const [refusingColumn, setRefusingColumn] = useState<number | null>(null);
  useIndicator(live, "moving", activeId);

  const sensors = useSensors(
    useSensor(PointerSensor, { activationConstraint: { distance: 8 } }),
    useSensor(KeyboardSensor, { coordinateGetter: sortableKeyboardCoordinates }),
  );

  const getBoard = useCallback(
    () => client.getQueryData<Board>(boardKey(project)),
    [client, project],
  );

  /** Where a card dropped over `overId` would go: a card's place, or a column's bottom. */
  const target = useCallback(
    (overId: string | number | undefined, ticketId: number): DropTarget | null => {
      const board = getBoard();
      if (!board || overId === undefined) return null;
      const over = String(overId);
      if (over.startsWith("c-")) {
        const column = board.columns.find((c) => c.id === Number(over.slice(2)));
        if (!column) return null;
        const inIt = column.tickets.some((t) => t.id === ticketId);
        return { columnId: column.id, index: column.tickets.length - (inIt ? 1 : 0) };
      }
      const spot = locate(board, Number(over.slice(2)));
      return spot ? { columnId: spot.columnId, index: spot.index } : null;
    },
    [getBoard],
  );

  const announcements = useMemo(() => dragAnnouncements(getBoard, target), [getBoard, target]);

  const fullName = useCallback(
    (username: string) => live.people.find((p) => p.username === username)?.full_name || username,
    [live.people],
  );

  const cardCtx: CardCtx = useMemo(
    () => ({ open: setOpenId, fullName, indicators: live.indicators, activeId }),
    [fullName, live.indicators, activeId],
  );

  useCommands([
    {
      id: "board:open",
      title: "Open the focused card",
      group: "Board",
      keys: "o",
      palette: false,
      focused: true,
      run: (event) => {
        const body = event?.target instanceof HTMLElement ? event.target : null;
        const id = body?.classList.contains("card") && body.closest("[data-ticket-id]");
        if (!id) return false;
        setOpenId(Number(id.getAttribute("data-ticket-id")));
      },
    },
  ]);

  if (query.isPending) return <p className="loading">Loading the board…</p>;
  if (query.isError) {
    if (query.error instanceof ApiError && query.error.status === 404) return <NotFound />;
    return <ErrorPanel message={messageOf(query.error)} onRetry={() => void query.refetch()} />;
  }
  const board = query.data;

  const onDragStart = (event: DragStartEvent) =>
    setActiveId(Number(String(event.active.id).slice(2)));
  const onDragOver = (event: DragOverEvent) => {
    const id = Number(String(event.active.id).slice(2));
    const spot = target(event.over?.id, id);
    const from = locate(board, id);
    const column = spot && board.columns.find((c) => c.id === spot.columnId);
    setRefusingColumn(column && from && wipRefuses(column, from.columnId) ? column.id : null);
  };
  const onDragEnd = (event: DragEndEvent) => {
    const id = Number(String(event.active.id).slice(2));
    setActiveId(null);
    setRefusingColumn(null);
    const spot = target(event.over?.id, id);
    if (spot) move(id, spot.columnId, spot.index);
  };
  const onDragCancel = () => {
    setActiveId(null);
    setRefusingColumn(null);
  };

  const ctx: BoardCtx = {
    project,
    board,
    live,
    move,
    open: setOpenId,
    fullName,
    activeId,
    refusingColumn,
  };
  const active = activeId !== null ? locate(board, activeId) : null;
  const columns = [...board.columns].sort((a, b) => a.order - b.order || a.id - b.id);

  return (
    <BoardContext.Provider value={ctx}>
      <CardContext.Provider value={cardCtx}>
        <div className="board-page">
          <div className="board-header">
            <h1>
              {board.project.name} <span className="project-key">{board.project.key}</span>
            </h1>
            <Presence people={live.people} />
          </div>
          <DndContext
            sensors={sensors}
            collisionDetection={collisions}
            onDragStart={onDragStart}
            onDragOver={onDragOver}
            onDragEnd={onDragEnd}
            onDragCancel={onDragCancel}
            accessibility={{
              announcements,
              screenReaderInstructions: {
                draggable:
                  "To pick up a ticket, press Space or Enter. Use the arrow keys to move it within and between columns. Press Space or Enter again to drop it, or Escape to cancel. Press O to open it.",
              },
            }}
          >
            <div className="columns">
              {columns.map((column) => (
                <Column key={column.id} column={column} />
              ))}
            </div>
            <DragOverlay dropAnimation={reducedMotion() ? null : undefined}>
              {active ? (
                <div className="card overlay">
                  <CardBody ticket={active.ticket} />
                </div>
              ) : null}
            </DragOverlay>
          </DndContext>
          <MoveAnnouncer />
          <CardDrawer ticketId={openId} onClose={() => setOpenId(null)} />
        </div>
      </CardContext.Provider>
    </BoardContext.Provider>
  );
}
