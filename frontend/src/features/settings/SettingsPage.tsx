// /projects/$key/settings (project admins): the board's columns and the project's members.
// Everything else is configured in the Django admin (linked from the user menu for site admins).
import { useQuery } from "@tanstack/react-query";
import { Link } from "@tanstack/react-router";
import { ApiError } from "../../api/errors";
import { columnsQuery } from "../../api/projectSettings";
import { meQuery } from "../../api/session";
import { NotFound } from "../../app/NotFound";
import { ColumnsSection } from "./ColumnsSection";
import { MembersSection } from "./MembersSection";
import "../ticket/ticket.css";
import "./settings.css";

export function SettingsPage({ project }: { project: string }) {
  const me = useQuery(meQuery).data;
  const columns = useQuery(columnsQuery(project));
  // A project that does not exist (a site admin may type any key): the app's not-found page.
  if (columns.error instanceof ApiError && columns.error.status === 404) return <NotFound />;
  const name = me?.memberships.find((m) => m.project === project)?.project_name;
  return (
    <div className="settings-page">
      <header className="settings-head">
        <h1>
          Settings{name ? `: ${name}` : ""} <span className="project-key">{project}</span>
        </h1>
        <Link to="/projects/$key/board" params={{ key: project }}>
          Open the board
        </Link>
      </header>
      <section className="settings-section" aria-labelledby="settings-columns">
        <h2 id="settings-columns">Board columns</h2>
        <ColumnsSection project={project} />
      </section>
      <section className="settings-section" aria-labelledby="settings-members">
        <h2 id="settings-members">Members</h2>
        <MembersSection project={project} />
      </section>
    </div>
  );
}
