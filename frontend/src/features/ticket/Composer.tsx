// The composer: Reply or Internal note (its send button says which), the draft kept per ticket in
// the browser and never replaced by a live update; while typing, the board hears "editing".
import { useEffect, useState, type FormEvent } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { ticketKeys, ticketWrites } from "../../api/ticket";
import type { TicketDetail } from "../../api/ticketTypes";
import { messageOf } from "../../api/errors";
import { clearDraft, loadDraft, saveDraft, type DraftMode } from "../../lib/drafts";
import { showToast } from "../../ui/toast";
import { useEditingIndicator, type TicketLive } from "./useTicketLive";

export function Composer({
  ticket,
  live,
  canNote,
}: {
  ticket: TicketDetail;
  live: TicketLive;
  canNote: boolean;
}) {
  const client = useQueryClient();
  // Read once per ticket (the state initialisers run once): live refetches never touch the text.
  const [body, setBody] = useState(() => loadDraft(ticket.key)?.body ?? "");
  const [mode, setMode] = useState<DraftMode>(() =>
    canNote ? (loadDraft(ticket.key)?.mode ?? "reply") : "reply",
  );
  const [sending, setSending] = useState(false);
  const [error, setError] = useState<string | null>(null);
  useEditingIndicator(live, ticket.id, body.trim() !== "");

  useEffect(() => saveDraft(ticket.key, { body, mode }), [ticket.key, body, mode]);

  async function send(event: FormEvent) {
    event.preventDefault();
    if (body.trim() === "") return;
    setSending(true);
    setError(null);
    try {
      await ticketWrites.send(ticket.id, body, mode === "internal");
      clearDraft(ticket.key);
      setBody("");
      showToast(mode === "internal" ? "Internal note added." : "Reply sent.");
      void client.invalidateQueries({ queryKey: ticketKeys.all(ticket.id) });
      void client.invalidateQueries({ queryKey: ticketKeys.byKey(ticket.key) });
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setSending(false);
    }
  }

  const internal = mode === "internal";
  return (
    <form
      className={internal ? "composer composer-internal" : "composer"}
      onSubmit={(e) => void send(e)}
      aria-label="Composer"
    >
      {canNote && (
        <div className="mode-switch" role="radiogroup" aria-label="Message kind">
          {(["reply", "internal"] as const).map((m) => (
            <label key={m} className={mode === m ? "mode mode-on" : "mode"}>
              <input
                type="radio"
                name="composer-mode"
                value={m}
                checked={mode === m}
                onChange={() => setMode(m)}
              />
              {m === "reply" ? "Reply" : "Internal note"}
            </label>
          ))}
        </div>
      )}
      <label htmlFor="composer-body" className="visually-hidden">
        {internal ? "Internal note text" : "Reply text"}
      </label>
      <textarea
        id="composer-body"
        rows={5}
        value={body}
        placeholder={
          internal ? "A note only staff will see…" : "Write a reply the requester will see…"
        }
        onChange={(e) => setBody(e.target.value)}
      />
      {internal && <p className="hint">Internal notes are never shown to the customer.</p>}
      {error && (
        <p role="alert" className="form-error">
          {error}
        </p>
      )}
      <div className="form-actions">
        <button type="submit" className="primary" disabled={sending || body.trim() === ""}>
          {internal ? "Add internal note" : "Send reply"}
        </button>
        {body !== "" && <span className="hint">Draft saved in this browser.</span>}
      </div>
    </form>
  );
}
