// Dashboard stats: one query per filter set, refreshed every 30 s and on focus.
import { queryOptions } from "@tanstack/react-query";
import { request } from "./client";

export interface StatsFilters {
  project?: string;
  created_after?: string;
  created_before?: string;
}

export interface Stats {
  total_tickets: number;
  open_tickets: number;
  avg_tickets_per_day: number | null;
  priority_breakdown: Record<string, number>;
  category_breakdown: Record<string, number>;
  status_breakdown: Record<string, number>;
  status_category_breakdown: Record<string, number>;
  avg_first_response_seconds: number | null;
  avg_resolution_seconds: number | null;
  sla: {
    on_track: number;
    near_breach: number;
    breached: number;
    paused: number;
    first_response_met_pct: number | null;
    resolution_met_pct: number | null;
  };
  created_per_day: { date: string; count: number }[];
}

export function statsQueryString(filters: StatsFilters): string {
  const params = new URLSearchParams();
  for (const name of ["project", "created_after", "created_before"] as const) {
    const value = filters[name];
    if (value) params.set(name, value);
  }
  return params.toString();
}

export const STATS_REFRESH_MS = 30_000;

export const statsQuery = (filters: StatsFilters) =>
  queryOptions({
    queryKey: ["stats", filters],
    queryFn: () => {
      const qs = statsQueryString(filters);
      return request<Stats>("GET", `/api/v1/stats/${qs ? `?${qs}` : ""}`);
    },
    refetchInterval: STATS_REFRESH_MS,
    refetchOnWindowFocus: true,
  });
