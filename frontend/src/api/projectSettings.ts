// A project's settings (project admins): its board columns (add, change, delete, reorder), the
// global statuses they map, and its members (add, change role, remove). Every write refreshes the
// board and the member lists that read the same data.
import { queryOptions, useMutation, useQueryClient, type QueryClient } from "@tanstack/react-query";
import { api, unwrap } from "./client";
import { boardKey, membersQuery } from "./board";
import { meKey } from "./session";
import type { Column, Member, Status } from "./types";

export const columnsKey = (project: string) => ["columns", project] as const;

export const columnsQuery = (project: string) =>
  queryOptions({
    queryKey: columnsKey(project),
    queryFn: async () =>
      unwrap(
        await api.GET("/api/v1/projects/{key}/columns/", { params: { path: { key: project } } }),
      ) as unknown as Column[],
  });

export const statusesQuery = queryOptions({
  queryKey: ["statuses"],
  queryFn: async () => unwrap(await api.GET("/api/v1/statuses/")) as Status[],
  staleTime: 5 * 60_000,
});

/** What the column form sends: every field, so the server checks the limits together. */
export interface ColumnFields {
  name: string;
  status_keys: string[];
  min_limit: number | null;
  max_limit: number | null;
  enforce_wip: boolean;
  is_collapsed: boolean;
}

function refreshBoard(client: QueryClient, project: string) {
  void client.invalidateQueries({ queryKey: columnsKey(project) });
  void client.invalidateQueries({ queryKey: boardKey(project) });
}

export function useCreateColumn(project: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async (body: ColumnFields) =>
      unwrap(
        await api.POST("/api/v1/projects/{key}/columns/", {
          params: { path: { key: project } },
          body,
        }),
      ) as unknown as Column,
    onSuccess: () => refreshBoard(client, project),
  });
}

export function useUpdateColumn(project: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async ({ id, ...body }: Partial<ColumnFields> & { id: number }) =>
      unwrap(
        await api.PATCH("/api/v1/projects/{key}/columns/{column_id}/", {
          params: { path: { key: project, column_id: id } },
          body,
        }),
      ) as unknown as Column,
    onSuccess: (column) => {
      client.setQueryData<Column[]>(columnsKey(project), (columns) =>
        columns?.map((c) => (c.id === column.id ? column : c)),
      );
      refreshBoard(client, project);
    },
  });
}

export function useDeleteColumn(project: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async (id: number) =>
      unwrap(
        await api.DELETE("/api/v1/projects/{key}/columns/{column_id}/", {
          params: { path: { key: project, column_id: id } },
        }),
      ),
    onSuccess: () => refreshBoard(client, project),
  });
}

/** Reorder at once (the list shows the new order), back to the server's order when refused. */
export function useReorderColumns(project: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async (order: number[]) =>
      unwrap(
        await api.POST("/api/v1/projects/{key}/columns/reorder/", {
          params: { path: { key: project } },
          body: { order },
        }),
      ) as unknown as Column[],
    onMutate: async (order) => {
      await client.cancelQueries({ queryKey: columnsKey(project) });
      const before = client.getQueryData<Column[]>(columnsKey(project));
      if (before) {
        const byId = new Map(before.map((c) => [c.id, c]));
        client.setQueryData<Column[]>(
          columnsKey(project),
          order.flatMap((id, index) => {
            const column = byId.get(id);
            return column ? [{ ...column, order: index }] : [];
          }),
        );
      }
      return { before };
    },
    onError: (_error, _order, context) => {
      if (context?.before) client.setQueryData(columnsKey(project), context.before);
    },
    onSuccess: (columns) => {
      client.setQueryData(columnsKey(project), columns);
      void client.invalidateQueries({ queryKey: boardKey(project) });
    },
  });
}

function useMemberWrite<T>(
  project: string,
  write: (body: T) => Promise<unknown>,
  username: (body: T) => string,
) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: write,
    // Pending until the list is fetched again, so a changed role never shows its old value.
    onSuccess: async (_result, body) => {
      // The caller's own role changed: what the shell offers them changes too.
      const me = client.getQueryData<{ username: string } | null>(meKey);
      if (me?.username === username(body)) void client.invalidateQueries({ queryKey: meKey });
      await client.invalidateQueries({ queryKey: membersQuery(project).queryKey });
    },
  });
}

export function useAddMember(project: string) {
  return useMemberWrite(
    project,
    async (body: { username: string; role: Member["role"] & string }) =>
      unwrap(
        await api.POST("/api/v1/projects/{key}/members/", {
          params: { path: { key: project } },
          body,
        }),
      ),
    (body) => body.username,
  );
}

export function useChangeRole(project: string) {
  return useMemberWrite(
    project,
    async ({ username, role }: { username: string; role: Member["role"] & string }) =>
      unwrap(
        await api.PATCH("/api/v1/projects/{key}/members/{username}/", {
          params: { path: { key: project, username } },
          body: { role },
        }),
      ),
    (body) => body.username,
  );
}

export function useRemoveMember(project: string) {
  return useMemberWrite(
    project,
    async (username: string) =>
      unwrap(
        await api.DELETE("/api/v1/projects/{key}/members/{username}/", {
          params: { path: { key: project, username } },
        }),
      ),
    (username) => username,
  );
}
