// Watch / unwatch with channel preferences (in-app, e-mail), and who watches.
import { useQuery } from "@tanstack/react-query";
import { ticketWrites, watchersQuery, watchQuery } from "../../api/ticket";
import type { TicketDetail } from "../../api/ticketTypes";
import { useTicketWrite } from "./useTicketWrite";

export function Watchers({ ticket }: { ticket: TicketDetail }) {
  const { run, busy } = useTicketWrite(ticket);
  const state = useQuery(watchQuery(ticket.id));
  const watchers = useQuery(watchersQuery(ticket.id));
  const watch = state.data;
  const setChannels = (notify_in_app: boolean, notify_email: boolean) =>
    void run(() => ticketWrites.watch(ticket.id, { notify_in_app, notify_email }));
  return (
    <section className="side-section" aria-labelledby="watch-heading">
      <h2 id="watch-heading">Watchers</h2>
      {watch && (
        <>
          <button
            type="button"
            disabled={busy}
            aria-pressed={watch.watching}
            onClick={() =>
              void run(
                () =>
                  watch.watching
                    ? ticketWrites.unwatch(ticket.id)
                    : ticketWrites.watch(ticket.id, { notify_in_app: true, notify_email: true }),
                watch.watching ? "You no longer watch this ticket." : "You watch this ticket.",
              )
            }
          >
            {watch.watching ? "Unwatch" : "Watch"}
          </button>
          {watch.watching && (
            <fieldset className="channels">
              <legend>Notify me</legend>
              <label className="check">
                <input
                  type="checkbox"
                  checked={watch.notify_in_app}
                  disabled={busy}
                  onChange={(e) => setChannels(e.target.checked, watch.notify_email)}
                />
                In the app
              </label>
              <label className="check">
                <input
                  type="checkbox"
                  checked={watch.notify_email}
                  disabled={busy}
                  onChange={(e) => setChannels(watch.notify_in_app, e.target.checked)}
                />
                By e-mail
              </label>
            </fieldset>
          )}
        </>
      )}
      {watchers.data && (
        <p className="hint">
          {watchers.data.length === 0
            ? "Nobody watches this ticket."
            : `Watching: ${watchers.data.map((w) => w.username).join(", ")}`}
        </p>
      )}
    </section>
  );
}
