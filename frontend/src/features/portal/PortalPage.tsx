// `/portal`: a customer's own tickets and a form to raise one.
import { useState, type FormEvent } from "react";
import { Link } from "@tanstack/react-router";
import { useQuery } from "@tanstack/react-query";
import { myTicketsQuery, useRaiseTicket } from "../../api/portal";
import { ApiError, messageOf } from "../../api/errors";
import { ErrorPanel } from "../../app/NotFound";
import { showToast } from "../../ui/toast";
import { portalRoute } from "./routes";

export function PortalPage() {
  const query = useQuery(myTicketsQuery);
  return (
    <section className="portal" aria-labelledby="portal-title">
      <h1 id="portal-title">Your requests</h1>
      <RaiseForm />
      <h2>Your tickets</h2>
      {query.isPending ? (
        <p role="status">Loading your tickets…</p>
      ) : query.isError ? (
        <ErrorPanel message={messageOf(query.error)} onRetry={() => void query.refetch()} />
      ) : query.data.results.length === 0 ? (
        <p className="empty">You have not raised a ticket yet.</p>
      ) : (
        <ul className="portal-list" aria-label="Your tickets">
          {query.data.results.map((t) => (
            <li key={t.id} className="portal-item">
              <Link to="/portal/tickets/$key" params={{ key: t.key }}>
                {t.key} {t.title}
              </Link>
              <span className="badge">{t.status_name ?? t.status}</span>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function RaiseForm() {
  const { me } = portalRoute.useRouteContext();
  const raise = useRaiseTicket();
  const [title, setTitle] = useState("");
  const [description, setDescription] = useState("");
  const [errors, setErrors] = useState<Record<string, string>>({});
  const projects = me.memberships;
  const [project, setProject] = useState(projects[0]?.project ?? "");

  async function submit(e: FormEvent) {
    e.preventDefault();
    setErrors({});
    try {
      const ticket = await raise.mutateAsync({ project, title, description });
      setTitle("");
      setDescription("");
      showToast(`${ticket.key} raised`, "info");
    } catch (error) {
      const fields =
        error instanceof ApiError
          ? ((error.details as { fields?: Record<string, string[]> } | undefined)?.fields ?? {})
          : {};
      const mapped = Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, v.join(" ")]));
      setErrors(mapped);
      if (Object.keys(mapped).length === 0) showToast(messageOf(error), "error");
    }
  }

  if (projects.length === 0) return null;
  return (
    <form className="portal-form" aria-label="Raise a ticket" onSubmit={(e) => void submit(e)}>
      <h2>Raise a ticket</h2>
      {projects.length > 1 && (
        <label>
          Project
          <select value={project} onChange={(e) => setProject(e.target.value)}>
            {projects.map((m) => (
              <option key={m.project} value={m.project}>
                {m.project_name}
              </option>
            ))}
          </select>
        </label>
      )}
      <label>
        Title
        <input
          value={title}
          onChange={(e) => setTitle(e.target.value)}
          required
          aria-invalid={Boolean(errors.title)}
        />
      </label>
      {errors.title && <p role="alert">{errors.title}</p>}
      <label>
        Description
        <textarea
          value={description}
          onChange={(e) => setDescription(e.target.value)}
          rows={4}
          aria-invalid={Boolean(errors.description)}
        />
      </label>
      {errors.description && <p role="alert">{errors.description}</p>}
      <button type="submit" className="primary" disabled={raise.isPending}>
        Raise ticket
      </button>
    </form>
  );
}
