// The queue's server state: one page of tickets per (filters, ordering, cursor), the bulk write,
// the statuses for the filter, and a board's current seq (where the queue's live sockets start).
import { keepPreviousData, queryOptions, useMutation, useQueryClient } from "@tanstack/react-query";
import { request } from "./client";
import { ApiError } from "./errors";
import type { BulkAction, BulkResult, Page, Status, TicketRow } from "./types";

export const QUEUE_PAGE_SIZE = 50;

export const ticketsKey = ["tickets"] as const;

/** `queryString` is the queue's filters and cursor (features/queue/search.ts toQueryString). */
export const ticketsQuery = (queryString: string) =>
  queryOptions({
    queryKey: [...ticketsKey, queryString],
    queryFn: () =>
      request<Page<TicketRow>>(
        "GET",
        `/api/v1/tickets/?page_size=${QUEUE_PAGE_SIZE}${queryString ? `&${queryString}` : ""}`,
      ),
    placeholderData: keepPreviousData,
    // Live events mark rows instead of refetching under the pointer ("N updated - show").
    staleTime: Infinity,
    refetchOnWindowFocus: false,
  });

export const statusesQuery = queryOptions({
  queryKey: ["statuses"],
  queryFn: async () => {
    const data = await request<Status[] | Page<Status>>("GET", "/api/v1/statuses/");
    return Array.isArray(data) ? data : data.results;
  },
  staleTime: 5 * 60_000,
});

export function useBulkAction() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: { ids: number[]; action: BulkAction; value?: string | null }) =>
      request<{ results: BulkResult[] }>("POST", "/api/v1/tickets/bulk/", body),
    onSettled: () => client.invalidateQueries({ queryKey: ticketsKey }),
  });
}

/** A project's committed board seq (the events endpoint's answer, or its 410's details). */
export async function boardSeq(project: string): Promise<number> {
  const url = `/api/v1/projects/${encodeURIComponent(project)}/events/?after=0&limit=1`;
  try {
    return (await request<{ seq: number }>("GET", url)).seq;
  } catch (error) {
    const seq = error instanceof ApiError ? (error.details as { seq?: unknown })?.seq : undefined;
    if (typeof seq === "number") return seq;
    throw error;
  }
}
