// One card: a draggable body (key, title, priority, category, assignee, SLA) and its Move menu.
import { memo, type CSSProperties } from "react";
import type { DraggableAttributes, DraggableSyntheticListeners } from "@dnd-kit/core";
import { useSortable } from "@dnd-kit/sortable";
import { CSS } from "@dnd-kit/utilities";
import type { Ticket } from "../../api/types";
import { initials } from "../../app/Shell";
import { SlaBadge } from "./SlaBadge";
import { MoveMenu } from "./MoveMenu";
import { useCardCtx } from "./context";

export function cardDragId(id: number): string {
  return `t-${id}`;
}

interface Props {
  ticket: Ticket;
  columnId: number;
  index: number;
  /** Virtualized lists position items absolutely. */
  offsetY?: number;
}

export const Card = memo(function Card({ ticket, columnId, index, offsetY }: Props) {
  const { open, indicators, fullName, activeId } = useCardCtx();
  const { attributes, listeners, setNodeRef, transform, transition, isDragging } = useSortable({
    id: cardDragId(ticket.id),
    data: { columnId, ticketId: ticket.id },
  });
  const indicator = indicators.get(ticket.id);
  const style: CSSProperties = {
    transform: CSS.Translate.toString(
      transform
        ? { ...transform, y: transform.y + (offsetY ?? 0) }
        : offsetY
          ? { x: 0, y: offsetY, scaleX: 1, scaleY: 1 }
          : null,
    ),
    transition,
  };
  // Every card re-renders with the drag state (useSortable); its face and menu only when their own
  // props change, so a drop or a move re-renders a card's list item and not its content.
  return (
    <li
      ref={setNodeRef}
      aria-label={`${ticket.key} ${ticket.title}`}
      className={`card-item${isDragging || activeId === ticket.id ? " dragging" : ""}${offsetY !== undefined ? " virtual" : ""}`}
      style={style}
      data-ticket-id={ticket.id}
    >
      <CardFace
        ticket={ticket}
        attributes={attributes}
        listeners={listeners}
        open={open}
        indicatorKind={indicator?.kind}
        indicatorUser={indicator ? fullName(indicator.user) : undefined}
      />
      <MoveMenu ticket={ticket} columnId={columnId} index={index} />
    </li>
  );
});

const CardFace = memo(function CardFace({
  ticket,
  attributes,
  listeners,
  open,
  indicatorKind,
  indicatorUser,
}: {
  ticket: Ticket;
  attributes: DraggableAttributes;
  listeners: DraggableSyntheticListeners;
  open(ticketId: number): void;
  indicatorKind?: string;
  indicatorUser?: string;
}) {
  return (
    <div
      className="card"
      {...attributes}
      {...listeners}
      aria-roledescription="draggable ticket"
      onClick={() => open(ticket.id)}
    >
      <CardBody ticket={ticket} />
      {indicatorKind && (
        <p className={`indicator indicator-${indicatorKind}`}>
          {indicatorUser} is {indicatorKind}
        </p>
      )}
    </div>
  );
});

export const CardBody = memo(function CardBody({ ticket }: { ticket: Ticket }) {
  return (
    <>
      <div className="card-top">
        <span className="card-key">{ticket.key}</span>
        <span className={`badge priority priority-${ticket.priority}`}>{ticket.priority}</span>
      </div>
      <div className="card-title">{ticket.title}</div>
      <div className="card-meta">
        <span className="badge category">{ticket.category}</span>
        <SlaBadge sla={ticket.sla} firstResponded={Boolean(ticket.first_response_at)} />
        {ticket.assignee ? (
          <span className="avatar small" title={`Assignee: ${ticket.assignee}`}>
            <span className="visually-hidden">Assignee </span>
            {initials(ticket.assignee)}
          </span>
        ) : (
          <span className="avatar small empty" title="Unassigned">
            <span className="visually-hidden">Unassigned</span>
          </span>
        )}
      </div>
    </>
  );
});
