// `/dashboard` (staff): totals, breakdowns, tickets per day and SLA health from `GET stats/`.
import { lazy, Suspense } from "react";
import { useNavigate } from "@tanstack/react-router";
import { useQuery } from "@tanstack/react-query";
import { statsQuery, type Stats, type StatsFilters } from "../../api/stats";
import { messageOf } from "../../api/errors";
import { ErrorPanel } from "../../app/NotFound";
import { dashboardRoute } from "./routes";

// recharts stays out of the initial bundle.
const Charts = lazy(() => import("./Charts"));

export function DashboardPage() {
  const filters = dashboardRoute.useSearch();
  const { me } = dashboardRoute.useRouteContext();
  const navigate = useNavigate();
  const query = useQuery(statsQuery(filters));
  const projects = me.memberships.filter((m) => m.role !== "customer");

  const setFilter = (name: keyof StatsFilters, value: string) =>
    void navigate({
      to: "/dashboard",
      search: (prev: StatsFilters) => ({ ...prev, [name]: value || undefined }),
      replace: true,
    });

  return (
    <section className="dashboard" aria-labelledby="dashboard-title">
      <div className="dashboard-head">
        <h1 id="dashboard-title">Dashboard</h1>
        <form
          className="dashboard-filters"
          aria-label="Filters"
          onSubmit={(e) => e.preventDefault()}
        >
          <label htmlFor="dashboard-project">Project</label>
          <select
            id="dashboard-project"
            value={filters.project ?? ""}
            onChange={(e) => setFilter("project", e.target.value)}
          >
            <option value="">All projects</option>
            {projects.map((m) => (
              <option key={m.project} value={m.project}>
                {m.project_name} ({m.project})
              </option>
            ))}
          </select>
          <label htmlFor="dashboard-from">From</label>
          <input
            id="dashboard-from"
            type="date"
            value={filters.created_after ?? ""}
            onChange={(e) => setFilter("created_after", e.target.value)}
          />
          <label htmlFor="dashboard-before">Before</label>
          <input
            id="dashboard-before"
            type="date"
            value={filters.created_before ?? ""}
            onChange={(e) => setFilter("created_before", e.target.value)}
          />
        </form>
      </div>
      {query.isPending ? (
        <p role="status">Loading stats…</p>
      ) : query.isError ? (
        <ErrorPanel message={messageOf(query.error)} onRetry={() => void query.refetch()} />
      ) : (
        <>
          <Totals stats={query.data} />
          <Suspense fallback={<p role="status">Loading charts…</p>}>
            <Charts stats={query.data} />
          </Suspense>
        </>
      )}
    </section>
  );
}

function pct(value: number | null): string {
  return value === null ? "–" : `${Math.round(value * 10) / 10}%`;
}

function Totals({ stats }: { stats: Stats }) {
  const tiles: { label: string; value: string | number; href?: string }[] = [
    { label: "Total tickets", value: stats.total_tickets },
    { label: "Open tickets", value: stats.open_tickets },
    { label: "First response SLA met", value: pct(stats.sla.first_response_met_pct) },
    { label: "Resolution SLA met", value: pct(stats.sla.resolution_met_pct) },
    { label: "Breached now", value: stats.sla.breached, href: "/tickets?sla_state=breached" },
    {
      label: "Near breach now",
      value: stats.sla.near_breach,
      href: "/tickets?sla_state=near_breach",
    },
  ];
  return (
    <dl className="tiles">
      {tiles.map((t) => (
        <div className="tile" key={t.label}>
          <dt>{t.label}</dt>
          <dd data-testid={t.label}>{t.href ? <a href={t.href}>{t.value}</a> : t.value}</dd>
        </div>
      ))}
    </dl>
  );
}
