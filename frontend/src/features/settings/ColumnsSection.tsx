// The board's columns in order: drag a row's handle (pointer, or Space/arrows/Space from the
// keyboard) or use Move up / Move down; edit a column in place; add one; delete an empty one.
import { useCallback, useLayoutEffect, useMemo, useRef, useState } from "react";
import { useQuery } from "@tanstack/react-query";
import {
  closestCenter,
  DndContext,
  KeyboardSensor,
  PointerSensor,
  useSensor,
  useSensors,
  type Announcements,
  type DragEndEvent,
} from "@dnd-kit/core";
import {
  SortableContext,
  sortableKeyboardCoordinates,
  useSortable,
  verticalListSortingStrategy,
} from "@dnd-kit/sortable";
import { CSS } from "@dnd-kit/utilities";
import { messageOf } from "../../api/errors";
import {
  columnsQuery,
  statusesQuery,
  useCreateColumn,
  useDeleteColumn,
  useReorderColumns,
  useUpdateColumn,
} from "../../api/projectSettings";
import type { Column, Status } from "../../api/types";
import { showToast } from "../../ui/toast";
import { announce, MoveAnnouncer } from "../board/announcer";
import { wipLabel } from "../board/Column";
import { ActionDialog } from "../ticket/ActionDialog";
import { ColumnForm } from "./ColumnForm";
import { moveBy, moveTo } from "./order";
import { LoadFailed } from "./LoadFailed";

const dragId = (id: number) => `col-${id}`;
const idOf = (dragged: string | number) => Number(String(dragged).replace(/^col-/, ""));

export function ColumnsSection({ project }: { project: string }) {
  const columns = useQuery(columnsQuery(project));
  const statuses = useQuery(statusesQuery);
  const reorder = useReorderColumns(project);
  const [adding, setAdding] = useState(false);
  // The row a button moved is re-inserted in the list: its button gets the focus back.
  const focusAfterMove = useRef<string | null>(null);
  const create = useCreateColumn(project);
  const sensors = useSensors(
    useSensor(PointerSensor, { activationConstraint: { distance: 6 } }),
    useSensor(KeyboardSensor, { coordinateGetter: sortableKeyboardCoordinates }),
  );

  const list = useMemo(
    () => [...(columns.data ?? [])].sort((a, b) => a.order - b.order || a.id - b.id),
    [columns.data],
  );
  const ids = list.map((c) => c.id);
  const claimFocus = useCallback((id: number) => {
    const wanted = focusAfterMove.current;
    if (!wanted?.endsWith(`-${id}`)) return null;
    focusAfterMove.current = null;
    return wanted;
  }, []);
  const nameOf = (id: number) => list.find((c) => c.id === id)?.name ?? "The column";
  const position = (id: number, order = ids) =>
    `position ${order.indexOf(id) + 1} of ${order.length}`;

  async function save(order: number[] | null, id: number) {
    if (!order) return;
    try {
      await reorder.mutateAsync(order);
      announce(`${nameOf(id)} moved to ${position(id, order)}.`);
    } catch (error) {
      showToast(`Could not reorder the columns: ${messageOf(error)}`, "error");
    }
  }

  function step(id: number, delta: -1 | 1) {
    if (reorder.isPending) return; // one reorder at a time: each sends the whole order
    focusAfterMove.current = `move-${delta < 0 ? "up" : "down"}-${id}`;
    void save(moveBy(ids, id, delta), id);
  }

  function onDragEnd({ active, over }: DragEndEvent) {
    if (!over) return;
    const id = idOf(active.id);
    void save(moveTo(ids, id, ids.indexOf(idOf(over.id))), id);
  }

  const announcements: Announcements = {
    onDragStart: ({ active }) =>
      `Picked up ${nameOf(idOf(active.id))}, ${position(idOf(active.id))}.`,
    onDragOver: ({ active, over }) =>
      over?.id === active.id
        ? undefined // still in its own place: nothing new to say
        : over
          ? `${nameOf(idOf(active.id))} is over ${position(idOf(over.id))}.`
          : `${nameOf(idOf(active.id))} is no longer over the list.`,
    onDragEnd: ({ active, over }) =>
      over
        ? `${nameOf(idOf(active.id))} dropped at ${position(idOf(over.id))}.`
        : `${nameOf(idOf(active.id))} dropped where it was.`,
    onDragCancel: ({ active }) =>
      `Moving ${nameOf(idOf(active.id))} cancelled; it stays at ${position(idOf(active.id))}.`,
  };

  if (columns.isError || statuses.isError) {
    return (
      <LoadFailed
        what="the board's columns"
        error={columns.error ?? statuses.error}
        retry={() => {
          if (columns.isError) void columns.refetch();
          if (statuses.isError) void statuses.refetch();
        }}
      />
    );
  }
  if (columns.isPending || statuses.isPending) return <p role="status">Loading columns…</p>;

  const takenBy = (except: number | null) => {
    const map = new Map<string, string>();
    for (const column of list)
      if (column.id !== except) for (const s of column.statuses) map.set(s.key, column.name);
    return map;
  };

  return (
    <>
      <p className="hint">
        Drag a column by its handle, or use its arrows, to change the board&apos;s order. A status
        shows in at most one column; tickets in statuses of no column are not on the board.
      </p>
      {list.length === 0 ? (
        <p className="empty">No columns yet: the board shows nothing until you add one.</p>
      ) : (
        <DndContext
          sensors={sensors}
          collisionDetection={closestCenter}
          onDragEnd={onDragEnd}
          accessibility={{
            announcements,
            screenReaderInstructions: {
              draggable:
                "To move a column, press Space or Enter, use the up and down arrow keys, then press Space or Enter to drop it, or Escape to cancel.",
            },
          }}
        >
          <SortableContext items={ids.map(dragId)} strategy={verticalListSortingStrategy}>
            <ul className="settings-columns" aria-label="Board columns">
              {list.map((column, index) => (
                <ColumnRow
                  key={column.id}
                  project={project}
                  column={column}
                  index={index}
                  claimFocus={claimFocus}
                  first={index === 0}
                  last={index === list.length - 1}
                  moving={reorder.isPending}
                  statuses={statuses.data}
                  takenBy={takenBy(column.id)}
                  onStep={(delta) => step(column.id, delta)}
                />
              ))}
            </ul>
          </SortableContext>
        </DndContext>
      )}
      {adding ? (
        <div className="settings-card">
          <h3>New column</h3>
          <ColumnForm
            idPrefix="column-new"
            label="New column"
            statuses={statuses.data}
            takenBy={takenBy(null)}
            submitLabel="Add column"
            submit={async (fields) => {
              const column = await create.mutateAsync(fields);
              setAdding(false);
              showToast(`Added the column ${column.name}.`);
            }}
            onCancel={() => setAdding(false)}
          />
        </div>
      ) : (
        <button type="button" className="add-button" onClick={() => setAdding(true)}>
          Add column
        </button>
      )}
      <MoveAnnouncer />
    </>
  );
}

function ColumnRow({
  project,
  column,
  index,
  claimFocus,
  first,
  last,
  moving,
  statuses,
  takenBy,
  onStep,
}: {
  project: string;
  column: Column;
  index: number;
  /** The id of the control to focus once this row is in its new place, if any. */
  claimFocus(id: number): string | null;
  first: boolean;
  last: boolean;
  moving: boolean;
  statuses: Status[];
  takenBy: Map<string, string>;
  onStep(delta: -1 | 1): void;
}) {
  const [editing, setEditing] = useState(false);
  const update = useUpdateColumn(project);
  const remove = useDeleteColumn(project);
  const { attributes, listeners, setNodeRef, transform, transition, isDragging } = useSortable({
    id: dragId(column.id),
  });
  const wip = wipLabel(column.min_limit, column.max_limit);
  const formId = `column-${column.id}-form`;
  useLayoutEffect(() => {
    const wanted = claimFocus(column.id);
    if (wanted) document.getElementById(wanted)?.focus();
  }, [index, column.id, claimFocus]);
  return (
    <li
      ref={setNodeRef}
      className={`settings-card settings-column${isDragging ? " dragging" : ""}`}
      aria-label={column.name}
      style={{
        transform: CSS.Transform.toString(transform),
        transition: transition,
      }}
    >
      <div className="settings-column-head">
        <button
          type="button"
          className="drag-handle icon-button"
          {...attributes}
          {...listeners}
          aria-label={`Drag ${column.name}`}
          title="Drag to reorder"
        >
          ⠿
        </button>
        <div className="settings-column-summary">
          <span className="settings-column-name">{column.name}</span>
          <span className="settings-column-meta">
            {column.statuses.length > 0
              ? column.statuses.map((s) => s.name).join(", ")
              : "No statuses"}
            {" · "}
            {column.ticket_count === 1 ? "1 ticket" : `${column.ticket_count} tickets`}
            {wip && ` · ${wip}${column.enforce_wip ? " (enforced)" : ""}`}
            {column.is_collapsed && " · collapsed"}
          </span>
        </div>
        <div className="settings-column-actions">
          <button
            type="button"
            id={`move-up-${column.id}`}
            className="icon-button"
            aria-label={`Move ${column.name} up`}
            title="Move up"
            aria-disabled={first || moving}
            onClick={() => !first && onStep(-1)}
          >
            ↑
          </button>
          <button
            type="button"
            id={`move-down-${column.id}`}
            className="icon-button"
            aria-label={`Move ${column.name} down`}
            title="Move down"
            aria-disabled={last || moving}
            onClick={() => !last && onStep(1)}
          >
            ↓
          </button>
          <button
            type="button"
            aria-label={`Edit ${column.name}`}
            aria-expanded={editing}
            aria-controls={editing ? formId : undefined}
            onClick={() => setEditing((now) => !now)}
          >
            Edit
          </button>
          <ActionDialog
            trigger={
              <button type="button" className="danger" aria-label={`Delete ${column.name}`}>
                Delete
              </button>
            }
            title={`Delete the column ${column.name}?`}
            submitLabel="Delete column"
            submit={() => remove.mutateAsync(column.id)}
            onDone={() => showToast(`Deleted the column ${column.name}.`)}
          >
            <p>
              Its statuses will belong to no column. A column that still holds tickets is not
              deleted: move them first.
            </p>
          </ActionDialog>
        </div>
      </div>
      {editing && (
        <div id={formId}>
          <ColumnForm
            idPrefix={`column-${column.id}`}
            label={`Edit ${column.name}`}
            column={column}
            statuses={statuses}
            takenBy={takenBy}
            submitLabel="Save"
            submit={async (fields) => {
              const saved = await update.mutateAsync({ id: column.id, ...fields });
              setEditing(false);
              showToast(`Saved the column ${saved.name}.`);
            }}
            onCancel={() => setEditing(false)}
          />
        </div>
      )}
    </li>
  );
}
