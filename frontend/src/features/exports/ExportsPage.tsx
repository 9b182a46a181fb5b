// /exports: the caller's export jobs, newest first, cursor pages, live progress from /ws/me/.
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useNavigate } from "@tanstack/react-router";
import { applyExportProgress, exportsKey, exportsQuery } from "../../api/exports";
import { messageOf } from "../../api/errors";
import type { ExportProgress } from "../../api/types";
import { ErrorPanel } from "../../app/NotFound";
import { useMeSocket } from "../../realtime/me";
import { cursorOf } from "../queue/search";
import { ExportStatusText } from "./ExportStatusText";
import "../queue/queue.css";

const formatter = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

export function ExportsPage({ cursor }: { cursor: string | null }) {
  const client = useQueryClient();
  const navigate = useNavigate();
  const jobs = useQuery(exportsQuery(cursor));
  useMeSocket((message) => {
    if (message.type === "export.progress")
      applyExportProgress(client, message as unknown as ExportProgress);
    if (message.type === "welcome") void client.invalidateQueries({ queryKey: exportsKey });
  });
  const go = (link: string | null) =>
    void navigate({ to: "/exports", search: cursorOf(link) ? { cursor: cursorOf(link)! } : {} });

  return (
    <section className="exports-page" aria-labelledby="exports-title">
      <h1 id="exports-title">Exports</h1>
      {jobs.isPending ? (
        <p role="status">Loading exports…</p>
      ) : jobs.isError ? (
        <ErrorPanel
          message={`Could not load exports: ${messageOf(jobs.error)}`}
          onRetry={() => void jobs.refetch()}
        />
      ) : jobs.data.results.length === 0 && !cursor ? (
        <div className="empty-page">
          <p>No exports yet. Use “Export CSV” or “Export JSONL” on the tickets queue.</p>
          <a href="/tickets">Go to the queue</a>
        </div>
      ) : (
        <>
          <div className="table-wrap">
            <table className="queue-table" aria-label="Export jobs">
              <thead>
                <tr>
                  {["Export", "Project", "Format", "Status", "Rows", "Created", "Download"].map(
                    (h) => (
                      <th key={h} scope="col">
                        {h}
                      </th>
                    ),
                  )}
                </tr>
              </thead>
              <tbody>
                {jobs.data.results.map((job) => (
                  <tr key={job.id}>
                    <td>#{job.id}</td>
                    <td>{job.project}</td>
                    <td>{job.format.toUpperCase()}</td>
                    <td>
                      <span className={`badge export-${job.status}`}>{job.status}</span>
                    </td>
                    <td>
                      {job.rows_total !== null
                        ? `${job.rows_done} of ${job.rows_total}`
                        : job.rows_done}
                    </td>
                    <td>
                      <time dateTime={job.created_at}>
                        {formatter.format(new Date(job.created_at))}
                      </time>
                    </td>
                    <td>
                      <ExportStatusText job={job} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <nav className="pager" aria-label="Export pages">
            <button
              type="button"
              disabled={!jobs.data.previous}
              onClick={() => go(jobs.data.previous)}
            >
              Previous
            </button>
            <button type="button" disabled={!jobs.data.next} onClick={() => go(jobs.data.next)}>
              Next
            </button>
          </nav>
        </>
      )}
    </section>
  );
}
