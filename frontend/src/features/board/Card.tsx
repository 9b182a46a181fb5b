// One card: a draggable body (key, title, priority, category, assignee, SLA) and its Move menu.
import { memo, type CSSProperties } from "react";
import { useSortable } from "@dnd-kit/sortable";
import { CSS } from "@dnd-kit/utilities";
import type { Ticket } from "../../api/types";
import { initials } from "../../app/Shell";
import { SlaBadge } from "./SlaBadge";
import { MoveMenu } from "./MoveMenu";
import { useBoardCtx } from "./context";

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

export function Card({ ticket, columnId, index, offsetY }: Props) {
  const { open, live, fullName, activeId } = useBoardCtx();
  const { attributes, listeners, setNodeRef, transform, transition, isDragging } = useSortable({
    id: cardDragId(ticket.id),
    data: { columnId, ticketId: ticket.id },
  });
  const indicator = live.indicators.get(ticket.id);
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
  return (
    <li
      ref={setNodeRef}
      aria-label={`${ticket.key} ${ticket.title}`}
      className={`card-item${isDragging || activeId === ticket.id ? " dragging" : ""}${offsetY !== undefined ? " virtual" : ""}`}
      style={style}
      data-ticket-id={ticket.id}
    >
      <div
        className="card"
        {...attributes}
        {...listeners}
        aria-roledescription="draggable ticket"
        onClick={() => open(ticket.id)}
      >
        <CardBody ticket={ticket} />
        {indicator && (
          <p className={`indicator indicator-${indicator.kind}`}>
            {fullName(indicator.user)} is {indicator.kind}
          </p>
        )}
      </div>
      <MoveMenu ticket={ticket} columnId={columnId} index={index} />
    </li>
  );
}

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
