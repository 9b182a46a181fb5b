// Notifications: the bell's unread count, the inbox pages, mark one / all read.
import {
  infiniteQueryOptions,
  queryOptions,
  useMutation,
  useQueryClient,
} from "@tanstack/react-query";
import { request } from "./client";
import { samePath } from "./board";
import type { Page } from "./types";

export interface Notification {
  id: number;
  kind: string;
  title: string;
  project: string | null;
  ticket: number | null;
  actor: string | null;
  data: { ticket?: { key?: string } } & Record<string, unknown>;
  read: boolean;
  read_at: string | null;
  created_at: string;
}

export const NOTIFICATIONS_KEY = ["notifications"] as const;
export const INBOX_PAGE = 25;

export const unreadCountQuery = queryOptions({
  queryKey: [...NOTIFICATIONS_KEY, "unread-count"],
  queryFn: () => request<{ unread: number }>("GET", "/api/v1/notifications/unread-count/"),
  select: (data) => data.unread,
});

export const inboxQuery = (unreadOnly: boolean) =>
  infiniteQueryOptions({
    queryKey: [...NOTIFICATIONS_KEY, "list", { unreadOnly }],
    queryFn: ({ pageParam }) =>
      request<Page<Notification>>(
        "GET",
        pageParam ??
          `/api/v1/notifications/?page_size=${INBOX_PAGE}${unreadOnly ? "&unread=true" : ""}`,
      ),
    initialPageParam: null as string | null,
    getNextPageParam: (page) => (page.next ? samePath(page.next) : null),
  });

/** The ticket link a notification points at, if any. */
export function ticketKeyOf(n: Notification): string | null {
  const key = n.data?.ticket?.key;
  return typeof key === "string" && key ? key : null;
}

export function useMarkRead() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (id: number) => request<unknown>("POST", `/api/v1/notifications/${id}/read/`),
    onSettled: () => client.invalidateQueries({ queryKey: NOTIFICATIONS_KEY }),
  });
}

export function useMarkAllRead() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: () => request<{ updated: number }>("POST", "/api/v1/notifications/read-all/"),
    onSettled: () => client.invalidateQueries({ queryKey: NOTIFICATIONS_KEY }),
  });
}
