// Who is signed in: GET /me/, sign in and out with the session cookie (never a stored token).
import { queryOptions, useMutation, useQueryClient } from "@tanstack/react-query";
import { api, request, unwrap } from "./client";
import { ApiError } from "./errors";
import type { Me } from "./types";

export const meKey = ["me"] as const;

export const meQuery = queryOptions({
  queryKey: meKey,
  queryFn: async (): Promise<Me | null> => {
    try {
      return unwrap(await api.GET("/api/v1/me/"));
    } catch (error) {
      if (error instanceof ApiError && (error.status === 401 || error.status === 403)) return null;
      throw error;
    }
  },
  staleTime: 60_000,
});

export function useSignIn() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: { username: string; password: string }) =>
      request<Me>("POST", "/api/v1/auth/session/", body),
    onSuccess: (me) => client.setQueryData(meKey, me),
  });
}

export function useSignOut() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: () => request<void>("DELETE", "/api/v1/auth/session/"),
    onSuccess: () => {
      client.clear();
      client.setQueryData(meKey, null);
    },
  });
}

export const metaQuery = queryOptions({
  queryKey: ["meta"],
  queryFn: async () =>
    unwrap(await api.GET("/api/v1/meta/")) as { version: string; ws_url: string },
  staleTime: Infinity,
});

/** Staff on a project: agent and above (customers use the portal). */
export function isStaffOf(me: Me, project: string): boolean {
  return (
    me.is_superuser === true ||
    me.memberships.some((m) => m.project === project && m.role !== "customer")
  );
}
