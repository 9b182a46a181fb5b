// The customer portal: own tickets, raising one, the public conversation.
import { queryOptions, useMutation, useQueryClient } from "@tanstack/react-query";
import { request } from "./client";
import type { Page, Ticket } from "./types";

export interface PublicMessage {
  id: number;
  author: string | null;
  body: string;
  internal: boolean;
  created_at: string;
}

export const PORTAL_KEY = ["portal"] as const;

export const myTicketsQuery = queryOptions({
  queryKey: [...PORTAL_KEY, "tickets"],
  queryFn: () =>
    request<Page<Ticket & { created_at?: string }>>(
      "GET",
      "/api/v1/tickets/?ordering=-created_at&page_size=100",
    ),
});

export const portalTicketQuery = (key: string) =>
  queryOptions({
    queryKey: [...PORTAL_KEY, "ticket", key],
    queryFn: () => request<Ticket>("GET", `/api/v1/tickets/by-key/${encodeURIComponent(key)}/`),
    retry: false,
  });

export const portalMessagesQuery = (ticketId: number) =>
  queryOptions({
    queryKey: [...PORTAL_KEY, "messages", ticketId],
    queryFn: () =>
      request<Page<PublicMessage>>("GET", `/api/v1/tickets/${ticketId}/messages/?page_size=200`),
  });

export function useRaiseTicket() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: { project: string; title: string; description: string }) =>
      request<Ticket>("POST", "/api/v1/tickets/", body),
    onSuccess: () => client.invalidateQueries({ queryKey: PORTAL_KEY }),
  });
}

export function useReply(ticketId: number) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: string) =>
      request<PublicMessage>("POST", `/api/v1/tickets/${ticketId}/messages/`, {
        body,
        internal: false,
      }),
    onSuccess: () => client.invalidateQueries({ queryKey: [...PORTAL_KEY, "messages", ticketId] }),
  });
}
