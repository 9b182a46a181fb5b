// "Export CSV" / "Export JSONL" with the queue's current filters -> a job whose progress arrives
// on /ws/me/ -> its download link once it succeeded.
import { useState } from "react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { applyExportProgress, exportQuery, useCreateExport } from "../../api/exports";
import { messageOf } from "../../api/errors";
import type { ExportProgress } from "../../api/types";
import { useMeSocket } from "../../realtime/me";
import { showToast } from "../../ui/toast";
import { ExportStatusText } from "./ExportStatusText";

interface Props {
  project: string | null;
  filters: Record<string, string>;
}

export function ExportButtons({ project, filters }: Props) {
  const create = useCreateExport();
  const [jobId, setJobId] = useState<number | null>(null);

  async function start(format: "csv" | "jsonl") {
    if (!project) return;
    try {
      const job = await create.mutateAsync({ project, format, filters });
      setJobId(job.id);
    } catch (error) {
      showToast(messageOf(error), "error");
    }
  }

  const title = project
    ? `Export the tickets of ${project} matching these filters`
    : "Choose a project to export";
  return (
    <div className="export-buttons" role="group" aria-label="Export">
      <button
        type="button"
        disabled={!project || create.isPending}
        title={title}
        onClick={() => void start("csv")}
      >
        Export CSV
      </button>
      <button
        type="button"
        disabled={!project || create.isPending}
        title={title}
        onClick={() => void start("jsonl")}
      >
        Export JSONL
      </button>
      {jobId !== null && <ExportJobProgress id={jobId} />}
    </div>
  );
}

export function ExportJobProgress({ id }: { id: number }) {
  const client = useQueryClient();
  const job = useQuery(exportQuery(id));
  useMeSocket((message) => {
    if (message.type === "export.progress" && message.id === id)
      applyExportProgress(client, message as unknown as ExportProgress);
    // Reconnected: progress sent while away is lost (no replay), so read the job again.
    if (message.type === "welcome") void job.refetch();
  });
  if (!job.data) return null;
  return <ExportStatusText job={job.data} />;
}
