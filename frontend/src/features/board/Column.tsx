// One column: a named region with count and WIP state, its cards as a list in rank order, more pages
// fetched by cursor near the end, virtualized past VIRTUAL_AFTER cards (the dragged card stays mounted).
import { useCallback, useMemo, useRef, useState } from "react";
import { useDroppable } from "@dnd-kit/core";
import { SortableContext, verticalListSortingStrategy } from "@dnd-kit/sortable";
import { defaultRangeExtractor, useVirtualizer, type Range } from "@tanstack/react-virtual";
import { useQueryClient } from "@tanstack/react-query";
import type { BoardColumn } from "../../api/types";
import { loadMoreCards } from "../../api/board";
import { messageOf } from "../../api/errors";
import { showToast } from "../../ui/toast";
import { Card, cardDragId } from "./Card";
import { useBoardCtx } from "./context";

export const VIRTUAL_AFTER = 50;
const CARD_HEIGHT = 112;

/** "WIP 2–5", "WIP ≤ 5", "WIP ≥ 2" (null without limits). */
export function wipLabel(min: number | null, max: number | null): string | null {
  if (min !== null && max !== null) return `WIP ${min}–${max}`;
  if (max !== null) return `WIP ≤ ${max}`;
  if (min !== null) return `WIP ≥ ${min}`;
  return null;
}

export function columnDropId(id: number): string {
  return `c-${id}`;
}

export function Column({ column }: { column: BoardColumn }) {
  const { project, refusingColumn } = useBoardCtx();
  const [collapsed, setCollapsed] = useState(column.is_collapsed);
  const { setNodeRef, isOver } = useDroppable({
    id: columnDropId(column.id),
    data: { columnId: column.id },
  });
  const headingId = `column-${column.id}-name`;
  const refusing = refusingColumn === column.id;
  const wip = wipLabel(column.min_limit, column.max_limit);
  // The same array while the column's tickets are the same: a new one re-renders every card in it.
  const items = useMemo(() => column.tickets.map((t) => cardDragId(t.id)), [column.tickets]);
  const classes = ["column"];
  if (column.is_over_limit) classes.push("over-limit");
  if (column.is_under_limit) classes.push("under-limit");
  if (isOver && !refusing) classes.push("drop-target");
  if (refusing) classes.push("refusing");
  if (collapsed) {
    return (
      <section className="column collapsed" aria-labelledby={headingId} ref={setNodeRef}>
        <button
          type="button"
          className="strip"
          onClick={() => setCollapsed(false)}
          aria-expanded="false"
        >
          <span id={headingId} className="strip-name">
            {column.name}
          </span>
          <span className="count">{column.ticket_count}</span>
        </button>
      </section>
    );
  }
  return (
    <section className={classes.join(" ")} aria-labelledby={headingId}>
      <header className="column-header">
        <h2 id={headingId}>{column.name}</h2>
        <span className="count" title={`${column.ticket_count} tickets`}>
          {column.ticket_count}
        </span>
        {wip && <span className="wip">{wip}</span>}
        {column.is_over_limit && <span className="limit-flag">Over limit</span>}
        {column.is_under_limit && <span className="limit-flag">Under limit</span>}
        <button
          type="button"
          className="icon-button collapse"
          aria-label={`Collapse ${column.name}`}
          onClick={() => setCollapsed(true)}
        >
          <span aria-hidden="true">⇤</span>
        </button>
      </header>
      {refusing && (
        <p className="refusal" aria-hidden="true">
          WIP limit reached
        </p>
      )}
      <div ref={setNodeRef} className="column-drop">
        <SortableContext
          id={columnDropId(column.id)}
          items={items}
          strategy={verticalListSortingStrategy}
        >
          <CardList column={column} project={project} />
        </SortableContext>
      </div>
    </section>
  );
}

function CardList({ column, project }: { column: BoardColumn; project: string }) {
  const client = useQueryClient();
  const { activeId } = useBoardCtx();
  const scrollRef = useRef<HTMLDivElement>(null);
  const loading = useRef(false);
  const virtual = column.tickets.length > VIRTUAL_AFTER;
  const activeIndex = activeId === null ? -1 : column.tickets.findIndex((t) => t.id === activeId);
  const rangeExtractor = useCallback(
    (range: Range) => {
      const indexes = defaultRangeExtractor(range);
      if (activeIndex >= 0 && !indexes.includes(activeIndex)) indexes.push(activeIndex);
      return indexes.sort((a, b) => a - b);
    },
    [activeIndex],
  );
  // eslint-disable-next-line react-hooks/incompatible-library -- TanStack Virtual's documented hook
  const virtualizer = useVirtualizer({
    count: column.tickets.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => CARD_HEIGHT,
    overscan: 8,
    rangeExtractor,
    enabled: virtual,
  });
  const onScroll = () => {
    const el = scrollRef.current;
    if (!el || !column.next || loading.current) return;
    if (el.scrollTop + el.clientHeight < el.scrollHeight - CARD_HEIGHT * 6) return;
    loading.current = true;
    loadMoreCards(client, project, column.id)
      .catch((error: unknown) => showToast(messageOf(error), "error"))
      .finally(() => {
        loading.current = false;
      });
  };
  return (
    <div className="column-body" ref={scrollRef} onScroll={onScroll}>
      {virtual ? (
        <ul className="cards" style={{ height: virtualizer.getTotalSize() }}>
          {virtualizer.getVirtualItems().map((item) => (
            <Card
              key={column.tickets[item.index]!.id}
              ticket={column.tickets[item.index]!}
              columnId={column.id}
              index={item.index}
              offsetY={item.start}
            />
          ))}
        </ul>
      ) : (
        <ul className="cards">
          {column.tickets.map((ticket, index) => (
            <Card key={ticket.id} ticket={ticket} columnId={column.id} index={index} />
          ))}
        </ul>
      )}
      {column.tickets.length === 0 && <p className="empty-column">No tickets</p>}
      {column.next && (
        <p className="more">{column.ticket_count - column.tickets.length} more below</p>
      )}
    </div>
  );
}
