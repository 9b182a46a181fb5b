// Export jobs: create one from the queue's filters, list the caller's own (cursor pages), one job.
// Progress arrives on /ws/me/ (realtime/me.ts, the one client) and patches these caches.
import {
  keepPreviousData,
  queryOptions,
  useMutation,
  useQueryClient,
  type QueryClient,
} from "@tanstack/react-query";
import { request } from "./client";
import type { ExportJob, ExportProgress, Page } from "./types";

export const exportsKey = ["exports"] as const;
export const EXPORTS_PAGE_SIZE = 20;

export const exportsQuery = (cursor: string | null) =>
  queryOptions({
    queryKey: [...exportsKey, "list", cursor ?? ""],
    queryFn: () =>
      request<Page<ExportJob>>(
        "GET",
        `/api/v1/exports/?page_size=${EXPORTS_PAGE_SIZE}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`,
      ),
    placeholderData: keepPreviousData,
  });

export const exportQuery = (id: number) =>
  queryOptions({
    queryKey: [...exportsKey, "one", id],
    queryFn: () => request<ExportJob>("GET", `/api/v1/exports/${id}/`),
  });

export function useCreateExport() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: {
      project: string;
      format: "csv" | "jsonl";
      filters: Record<string, string>;
    }) => request<ExportJob>("POST", "/api/v1/exports/", body),
    onSuccess: (job) => {
      client.setQueryData(exportQuery(job.id).queryKey, job);
      void client.invalidateQueries({ queryKey: [...exportsKey, "list"] });
    },
  });
}

const FINISHED = new Set(["succeeded", "failed", "expired"]);

/** A progress message: patch the job; when it finished, fetch it again for its download link. */
export function applyExportProgress(client: QueryClient, message: ExportProgress): void {
  client.setQueryData<ExportJob>(exportQuery(message.id).queryKey, (job) =>
    job
      ? {
          ...job,
          status: message.status,
          rows_done: message.rows_done,
          rows_total: message.rows_total,
        }
      : job,
  );
  client.setQueriesData<Page<ExportJob>>({ queryKey: [...exportsKey, "list"] }, (page) =>
    page
      ? {
          ...page,
          results: page.results.map((job) =>
            job.id === message.id
              ? {
                  ...job,
                  status: message.status,
                  rows_done: message.rows_done,
                  rows_total: message.rows_total,
                }
              : job,
          ),
        }
      : page,
  );
  if (FINISHED.has(message.status)) {
    void client.invalidateQueries({ queryKey: exportQuery(message.id).queryKey });
    void client.invalidateQueries({ queryKey: [...exportsKey, "list"] });
  }
}
