// Who else is here: the people on this project's board or tickets now ("Viewing now"), and who is
// editing this ticket ("{Full Name} is editing").
import type { TicketLive } from "./useTicketLive";
import { Presence } from "../board/Presence";

export function PresencePanel({ live }: { live: TicketLive }) {
  const nameOf = (username: string) =>
    live.people.find((p) => p.username === username)?.full_name || username;
  return (
    <section className="side-section" aria-label="Presence">
      <Presence people={live.people} />
      {live.editors.map((u) => (
        <p key={u} className="indicator" role="status">
          {nameOf(u)} is editing
        </p>
      ))}
    </section>
  );
}
