// A card's main fields in a side drawer (title, description, status, priority, assignee); while it
// is open the board hears "X is editing".
import { useState, type FormEvent } from "react";
import * as Dialog from "@radix-ui/react-dialog";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { boardKey, getTicket, membersQuery, patchTicket, type TicketPatch } from "../../api/board";
import { messageOf } from "../../api/errors";
import type { Board, Priority, Ticket } from "../../api/types";
import { showToast } from "../../ui/toast";
import { useBoardCtx } from "./context";
import { locate, upsertByRank } from "./model";
import { useIndicator } from "./useBoardLive";

const PRIORITIES: Priority[] = ["low", "medium", "high", "critical"];

export function CardDrawer({
  ticketId,
  onClose,
}: {
  ticketId: number | null;
  onClose: () => void;
}) {
  const { live } = useBoardCtx();
  useIndicator(live, "editing", ticketId);
  return (
    <Dialog.Root open={ticketId !== null} onOpenChange={(open) => !open && onClose()}>
      <Dialog.Portal>
        <Dialog.Overlay className="drawer-overlay" />
        <Dialog.Content className="drawer" aria-describedby={undefined}>
          {ticketId !== null && <DrawerBody key={ticketId} ticketId={ticketId} onClose={onClose} />}
        </Dialog.Content>
      </Dialog.Portal>
    </Dialog.Root>
  );
}

function DrawerBody({ ticketId, onClose }: { ticketId: number; onClose: () => void }) {
  const { project, board } = useBoardCtx();
  const ticket = useQuery({ queryKey: ["ticket", ticketId], queryFn: () => getTicket(ticketId) });
  const card = locate(board, ticketId)?.ticket;
  const shown = ticket.data ?? card;
  return (
    <>
      <Dialog.Title className="drawer-title">
        {shown ? `${shown.key} ${shown.title}` : "Ticket"}
      </Dialog.Title>
      <Dialog.Close className="icon-button drawer-close" aria-label="Close">
        ×
      </Dialog.Close>
      {ticket.isError && <p role="alert">{messageOf(ticket.error)}</p>}
      {ticket.data ? (
        <TicketForm ticket={ticket.data} project={project} onDone={onClose} />
      ) : (
        !ticket.isError && <p className="loading">Loading…</p>
      )}
    </>
  );
}

function TicketForm({
  ticket,
  project,
  onDone,
}: {
  ticket: Ticket;
  project: string;
  onDone: () => void;
}) {
  const client = useQueryClient();
  const { board } = useBoardCtx();
  const members = useQuery(membersQuery(project));
  const [form, setForm] = useState<Required<TicketPatch>>({
    title: ticket.title,
    description: ticket.description ?? "",
    status: ticket.status,
    priority: ticket.priority,
    assignee: ticket.assignee,
  });
  const save = useMutation({
    mutationFn: (body: TicketPatch) => patchTicket(ticket.id, body),
    onSuccess: (saved) => {
      client.setQueryData(["ticket", ticket.id], saved);
      client.setQueryData<Board>(
        boardKey(project),
        (current) => current && upsertByRank(current, saved).board,
      );
      showToast(`${saved.key} saved.`);
      onDone();
    },
    onError: (error) => showToast(messageOf(error), "error"),
  });
  const statuses = board.columns.flatMap((c) => c.statuses);
  function submit(event: FormEvent) {
    event.preventDefault();
    const changed = Object.fromEntries(
      Object.entries(form).filter(
        ([k, v]) =>
          v !== (ticket as unknown as Record<string, unknown>)[k] &&
          !(k === "description" && v === (ticket.description ?? "")),
      ),
    ) as TicketPatch;
    if (Object.keys(changed).length === 0) return onDone();
    save.mutate(changed);
  }
  const set = <K extends keyof TicketPatch>(key: K, value: Required<TicketPatch>[K]) =>
    setForm((f) => ({ ...f, [key]: value }));
  return (
    <form className="drawer-form" onSubmit={submit}>
      <label>
        Title
        <input
          value={form.title}
          onChange={(e) => set("title", e.target.value)}
          required
          maxLength={300}
        />
      </label>
      <label>
        Description
        <textarea
          value={form.description}
          rows={6}
          onChange={(e) => set("description", e.target.value)}
        />
      </label>
      <label>
        Status
        <select value={form.status} onChange={(e) => set("status", e.target.value)}>
          {statuses.map((s) => (
            <option key={s.key} value={s.key}>
              {s.name}
            </option>
          ))}
        </select>
      </label>
      <label>
        Priority
        <select value={form.priority} onChange={(e) => set("priority", e.target.value as Priority)}>
          {PRIORITIES.map((p) => (
            <option key={p} value={p}>
              {p}
            </option>
          ))}
        </select>
      </label>
      <label>
        Assignee
        <select
          value={form.assignee ?? ""}
          onChange={(e) => set("assignee", e.target.value || null)}
        >
          <option value="">Unassigned</option>
          {form.assignee && !members.data?.some((m) => m.username === form.assignee) && (
            <option value={form.assignee}>{form.assignee}</option>
          )}
          {(members.data ?? [])
            .filter((m) => m.role !== "customer")
            .map((m) => (
              <option key={m.username} value={m.username}>
                {m.full_name || m.username}
              </option>
            ))}
        </select>
      </label>
      <div className="form-actions">
        <button type="submit" className="primary" disabled={save.isPending}>
          Save
        </button>
        <button type="button" onClick={onDone}>
          Cancel
        </button>
      </div>
    </form>
  );
}
