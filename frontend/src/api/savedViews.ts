// Saved views: the caller's named filter sets (GET|POST saved-views/, DELETE saved-views/{id}/).
import { queryOptions, useMutation, useQueryClient } from "@tanstack/react-query";
import { request } from "./client";
import type { Page, SavedView } from "./types";

export const savedViewsKey = ["saved-views"] as const;

export const savedViewsQuery = queryOptions({
  queryKey: savedViewsKey,
  queryFn: async () =>
    (await request<Page<SavedView>>("GET", "/api/v1/saved-views/?page_size=200")).results,
  staleTime: 60_000,
});

export function useSaveView() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: { name: string; query: string; project: string | null }) =>
      request<SavedView>("POST", "/api/v1/saved-views/", body),
    onSuccess: () => client.invalidateQueries({ queryKey: savedViewsKey }),
  });
}

export function useDeleteView() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (id: number) => request<void>("DELETE", `/api/v1/saved-views/${id}/`),
    onSuccess: () => client.invalidateQueries({ queryKey: savedViewsKey }),
  });
}
