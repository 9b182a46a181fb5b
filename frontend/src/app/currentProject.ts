// The shell's current project: the route's (board and settings `/projects/{KEY}/…`, a ticket's key
// prefix, a `?project=` filter on the queue or the dashboard), else the last one used (kept in
// localStorage), else the person's first project. The switcher shows it and "Board" links to it.
import { useEffect } from "react";
import { useParams, useSearch } from "@tanstack/react-router";
import type { Me } from "../api/types";

export const LAST_PROJECT_STORAGE = "helpline.lastProject";

/** The project a route names, if any: DESK from `DESK`, `DESK-42` or `?project=DESK`. */
export function projectOfRoute(params: { key?: string; ticketKey?: string }, project?: unknown) {
  const key = params.ticketKey ?? params.key;
  if (key) return key.toUpperCase().replace(/-\d+$/, "");
  // A filter on several projects names none of them.
  if (typeof project === "string" && /^[A-Za-z][A-Za-z0-9_]*$/.test(project))
    return project.toUpperCase();
  return null;
}

function remembered(): string | null {
  try {
    return localStorage.getItem(LAST_PROJECT_STORAGE);
  } catch {
    return null;
  }
}

export function staffProjects(me: Me): string[] {
  return me.memberships.filter((m) => m.role !== "customer").map((m) => m.project);
}

export function useCurrentProject(me: Me | null | undefined): string | null {
  const params = useParams({ strict: false }) as { key?: string; ticketKey?: string };
  const search = useSearch({ strict: false }) as { project?: unknown };
  const fromRoute = projectOfRoute(params, search.project);
  const mine = me ? staffProjects(me) : [];
  const known = fromRoute !== null && mine.includes(fromRoute);
  useEffect(() => {
    if (!known || !fromRoute) return;
    try {
      localStorage.setItem(LAST_PROJECT_STORAGE, fromRoute);
    } catch {
      // Storage refused: the first project is the fallback.
    }
  }, [known, fromRoute]);
  // A site admin may look at projects they are not a member of; others only see their own.
  if (fromRoute && (known || me?.is_superuser)) return fromRoute;
  const last = remembered();
  return last && mine.includes(last) ? last : (mine[0] ?? null);
}
