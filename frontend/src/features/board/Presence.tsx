import type { Person } from "../../api/types";
import { initials } from "../../app/Shell";

/** "Viewing now": everyone with the board open, named by full name. */
export function Presence({ people }: { people: Person[] }) {
  return (
    <div className="presence">
      <span className="presence-label" id="viewing-now">
        Viewing now
      </span>
      <ul aria-labelledby="viewing-now" className="people">
        {people.map((p) => (
          <li
            key={p.username}
            aria-label={p.full_name || p.username}
            title={p.full_name || p.username}
            className="avatar"
          >
            <span aria-hidden="true">{initials(p.full_name || p.username)}</span>
          </li>
        ))}
      </ul>
    </div>
  );
}
