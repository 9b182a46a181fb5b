// One ticket's server state (the ticket page): queries by key and id, and every write it makes.
import { infiniteQueryOptions, queryOptions } from "@tanstack/react-query";
import { request } from "./client";
import { samePath } from "./board";
import type { Page } from "./types";
import type {
  Assignee,
  Attachment,
  AuditRow,
  Message,
  NewTicket,
  ProjectDetail,
  SlaTimeline,
  TicketDetail,
  WatchState,
  Watcher,
  WorkflowStatus,
} from "./ticketTypes";

const T = (id: number) => `/api/v1/tickets/${id}`;
const P = (key: string) => `/api/v1/projects/${encodeURIComponent(key)}`;

/** Every key of one ticket's data starts with ["ticket", id]: one invalidation refreshes it all. */
export const ticketKeys = {
  byKey: (key: string) => ["ticket-key", key] as const,
  all: (id: number) => ["ticket", id] as const,
  messages: (id: number) => ["ticket", id, "messages"] as const,
  audit: (id: number) => ["ticket", id, "audit"] as const,
  attachments: (id: number) => ["ticket", id, "attachments"] as const,
  sla: (id: number) => ["ticket", id, "sla"] as const,
  watch: (id: number) => ["ticket", id, "watch"] as const,
  watchers: (id: number) => ["ticket", id, "watchers"] as const,
};

/** Every page of a cursor list, following `next` as given. */
export async function allPages<T>(url: string): Promise<T[]> {
  const rows: T[] = [];
  let next: string | null = url;
  while (next) {
    const page: Page<T> = await request<Page<T>>("GET", samePath(next));
    rows.push(...page.results);
    next = page.next;
  }
  return rows;
}

export const ticketByKeyQuery = (key: string) =>
  queryOptions({
    queryKey: ticketKeys.byKey(key),
    queryFn: () =>
      request<TicketDetail>("GET", `/api/v1/tickets/by-key/${encodeURIComponent(key)}/`),
  });

export const messagesQuery = (id: number) =>
  queryOptions({
    queryKey: ticketKeys.messages(id),
    queryFn: () => allPages<Message>(`${T(id)}/messages/?page_size=200`),
  });

export const AUDIT_PAGE = 50;

export const auditQuery = (id: number) =>
  infiniteQueryOptions({
    queryKey: ticketKeys.audit(id),
    queryFn: ({ pageParam }) =>
      request<Page<AuditRow>>("GET", pageParam ?? `${T(id)}/audit/?page_size=${AUDIT_PAGE}`),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => (last.next ? samePath(last.next) : null),
  });

export const attachmentsQuery = (id: number) =>
  queryOptions({
    queryKey: ticketKeys.attachments(id),
    queryFn: () => allPages<Attachment>(`${T(id)}/attachments/?page_size=200`),
  });

export const slaTimelineQuery = (id: number) =>
  queryOptions({
    queryKey: ticketKeys.sla(id),
    queryFn: () => request<SlaTimeline>("GET", `${T(id)}/sla/`),
  });

export const watchQuery = (id: number) =>
  queryOptions({
    queryKey: ticketKeys.watch(id),
    queryFn: () => request<WatchState>("GET", `${T(id)}/watch/`),
  });

export const watchersQuery = (id: number) =>
  queryOptions({
    queryKey: ticketKeys.watchers(id),
    queryFn: () => allPages<Watcher>(`${T(id)}/watchers/?page_size=200`),
  });

export const projectQuery = (key: string) =>
  queryOptions({
    queryKey: ["project", key],
    queryFn: () => request<ProjectDetail>("GET", `${P(key)}/`),
    staleTime: 60_000,
  });

export const statusesQuery = queryOptions({
  queryKey: ["statuses"],
  queryFn: () => request<WorkflowStatus[]>("GET", "/api/v1/statuses/"),
  staleTime: 60_000,
});

export const assigneesQuery = (project: string) =>
  queryOptions({
    queryKey: ["assignees", project],
    queryFn: () => allPages<Assignee>(`${P(project)}/assignees/?page_size=200`),
    staleTime: 10_000,
  });

// --- writes (each answers the fresh ticket, or nothing) ----------------------------------------

export type TicketEdit = Partial<
  Pick<TicketDetail, "title" | "description" | "priority" | "category" | "tags" | "is_sensitive">
>;

export const ticketWrites = {
  edit: (id: number, body: TicketEdit) => request<TicketDetail>("PATCH", `${T(id)}/`, body),
  setStatus: (id: number, status: string) =>
    request<TicketDetail>("PATCH", `${T(id)}/move/`, { status }),
  assign: (id: number, assignee: string | null) =>
    request<TicketDetail>("POST", `${T(id)}/assign/`, { assignee, reason: "" }),
  escalate: (id: number, reason: string) =>
    request<TicketDetail>("POST", `${T(id)}/escalate/`, { reason }),
  acknowledge: (id: number) => request<TicketDetail>("POST", `${T(id)}/acknowledge/`, {}),
  resolve: (id: number, summary: string, status = "resolved") =>
    request<TicketDetail>("POST", `${T(id)}/resolve/`, { summary, status }),
  reopen: (id: number, reason: string, status = "open") =>
    request<TicketDetail>("POST", `${T(id)}/reopen/`, { reason, status }),
  archive: (id: number) => request<void>("DELETE", `${T(id)}/`),
  send: (id: number, body: string, internal: boolean) =>
    request<Message>("POST", `${T(id)}/messages/`, { body, internal }),
  watch: (id: number, channels: Omit<WatchState, "watching">) =>
    request<unknown>("POST", `${T(id)}/watch/`, channels),
  unwatch: (id: number) => request<void>("DELETE", `${T(id)}/watch/`),
};

export function createTicket(body: NewTicket): Promise<TicketDetail> {
  return request<TicketDetail>("POST", "/api/v1/tickets/", body);
}
