// Who else is here: the people on this project's board or tickets now ("Viewing now"), who else
// has this ticket open, and who is editing it ("{Full Name} is editing").
import type { TicketLive } from "./useTicketLive";
import { useEditingIndicator } from "./useTicketLive";
import { Presence } from "../board/Presence";

export function PresencePanel({ live, ticketId }: { live: TicketLive; ticketId: number }) {
  useEditingIndicator(live, ticketId, true, "viewing");
  const nameOf = (username: string) =>
    live.people.find((p) => p.username === username)?.full_name || username;
  const viewers = live.viewers.filter((u) => !live.editors.includes(u));
  return (
    <section className="side-section" aria-label="Presence">
      <Presence people={live.people} />
      {viewers.length > 0 && (
        <p className="hint">Also on this ticket: {viewers.map(nameOf).join(", ")}</p>
      )}
      {live.editors.map((u) => (
        <p key={u} className="indicator" role="status">
          {nameOf(u)} is editing
        </p>
      ))}
    </section>
  );
}
