// The board's server state: one query per project, pages appended by cursor, the one move write.
import { queryOptions, type QueryClient } from "@tanstack/react-query";
import { api, request, unwrap } from "./client";
import type { Board, Member, MoveBody, Page, Ticket } from "./types";

export const boardKey = (project: string) => ["board", project] as const;

export const BOARD_PAGE = 50;

export const boardQuery = (project: string) =>
  queryOptions({
    queryKey: boardKey(project),
    queryFn: () =>
      request<Board>(
        "GET",
        `/api/v1/projects/${encodeURIComponent(project)}/board/?limit=${BOARD_PAGE}`,
      ),
    // The socket keeps it fresh; refetches happen only on resync.
    staleTime: Infinity,
    refetchOnWindowFocus: false,
  });

/** The server's `next` may be absolute: keep its path so the request stays on this origin. */
export function samePath(url: string): string {
  const parsed = new URL(url, window.location.origin);
  return parsed.pathname + parsed.search;
}

/** Fetch a column's next page and append it (cards already present are not repeated). */
export async function loadMoreCards(
  client: QueryClient,
  project: string,
  columnId: number,
): Promise<void> {
  const board = client.getQueryData<Board>(boardKey(project));
  const column = board?.columns.find((c) => c.id === columnId);
  if (!column?.next) return;
  const page = await request<Page<Ticket>>("GET", samePath(column.next));
  client.setQueryData<Board>(boardKey(project), (current) => {
    if (!current) return current;
    return {
      ...current,
      columns: current.columns.map((c) => {
        if (c.id !== columnId || c.next !== column.next) return c;
        const seen = new Set(c.tickets.map((t) => t.id));
        return {
          ...c,
          tickets: [...c.tickets, ...page.results.filter((t) => !seen.has(t.id))],
          next: page.next,
        };
      }),
    };
  });
}

export function moveTicket(ticketId: number, body: MoveBody): Promise<Ticket> {
  return request<Ticket>("PATCH", `/api/v1/tickets/${ticketId}/move/`, body);
}

export function getTicket(ticketId: number): Promise<Ticket> {
  return request<Ticket>("GET", `/api/v1/tickets/${ticketId}/`);
}

export type TicketPatch = Partial<
  Pick<Ticket, "title" | "description" | "status" | "priority" | "assignee">
>;

export function patchTicket(ticketId: number, body: TicketPatch): Promise<Ticket> {
  return request<Ticket>("PATCH", `/api/v1/tickets/${ticketId}/`, body);
}

export const membersQuery = (project: string) =>
  queryOptions({
    queryKey: ["members", project],
    queryFn: async () =>
      unwrap(
        await api.GET("/api/v1/projects/{key}/members/", {
          params: { path: { key: project }, query: { page_size: 200 } },
        }),
      ) as unknown as Member[] | Page<Member>,
    select: (data): Member[] => (Array.isArray(data) ? data : data.results),
    staleTime: 60_000,
  });
