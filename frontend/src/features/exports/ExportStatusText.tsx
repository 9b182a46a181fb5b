// One export job's state in words: a progress bar while it runs, the download link when ready.
import type { ExportJob } from "../../api/types";

export function ExportStatusText({ job }: { job: ExportJob }) {
  const label = job.format.toUpperCase();
  if (job.status === "succeeded" && job.download_url)
    return (
      <span role="status" className="export-status">
        <a href={job.download_url} download>
          Download {label} ({job.rows_done} rows)
        </a>
      </span>
    );
  if (job.status === "failed")
    return (
      <span role="status" className="export-status failed">
        Export failed: {job.error ?? "unknown error"}
      </span>
    );
  if (job.status === "expired")
    return (
      <span role="status" className="export-status muted">
        Expired
      </span>
    );
  const total = job.rows_total ?? 0;
  return (
    <span role="status" className="export-status">
      <progress
        aria-label={`Export ${job.id} progress`}
        max={total || undefined}
        value={total ? job.rows_done : undefined}
      />{" "}
      {job.status === "pending" ? "Export queued" : `Exporting ${job.rows_done} of ${total} rows`}
    </span>
  );
}
