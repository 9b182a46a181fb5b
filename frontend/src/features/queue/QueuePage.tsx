// /tickets: the queue. Filters, search, ordering and page live in the URL; selection and focus
// are the page's own state; live changes mark rows and wait for "N updated - show".
import { useCallback, useMemo, useState } from "react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useNavigate } from "@tanstack/react-router";
import { meQuery } from "../../api/session";
import { ticketsKey, ticketsQuery } from "../../api/queue";
import { messageOf } from "../../api/errors";
import { ErrorPanel } from "../../app/NotFound";
import { ExportButtons } from "../exports/ExportButtons";
import { BulkBar } from "./BulkBar";
import { QueueFilters } from "./QueueFilters";
import { QueueTable } from "./QueueTable";
import { SavedViews } from "./SavedViews";
import { SearchBox } from "./SearchBox";
import {
  clearFilters,
  cursorOf,
  DEFAULT_ORDERING,
  filtersOf,
  hasFilters,
  ORDERINGS,
  toQueryString,
  withFilter,
  type QueueSearch,
} from "./search";
import { emptySelection, keepVisible, selectRange, toggleAll, toggleRow } from "./selection";
import { useQueueLive } from "./useQueueLive";
import "./queue.css";
import { useRowKeys } from "./useRowKeys";

export function QueuePage({ search }: { search: QueueSearch }) {
  const navigate = useNavigate();
  const client = useQueryClient();
  const me = useQuery(meQuery).data;
  const tickets = useQuery(ticketsQuery(toQueryString(search, true)));
  const rows = useMemo(() => tickets.data?.results ?? [], [tickets.data]);
  const order = useMemo(() => rows.map((r) => r.id), [rows]);
  const [picked, setSelection] = useState(emptySelection);
  const [focusedAt, setFocused] = useState(-1);
  // Only rows still on the page stay selected or focused (after a refetch or a page change).
  const selection = useMemo(() => keepVisible(picked, order), [picked, order]);
  const focused = Math.min(focusedAt, order.length - 1);
  const projects = me?.memberships.filter((m) => m.role !== "customer").map((m) => m.project) ?? [];
  const live = useQueueLive(search.project ? [search.project] : projects, me?.username ?? "");
  const project = search.project ?? projects[0] ?? null;

  const go = useCallback(
    (next: QueueSearch, replace = false) =>
      void navigate({ to: "/tickets", search: next, replace }),
    [navigate],
  );
  const open = useCallback((key: string) => void navigate({ href: `/tickets/${key}` }), [navigate]);
  const onSearch = useCallback((q: string) => go(withFilter(search, "q", q), true), [go, search]);
  const toggleIndex = useCallback(
    (i: number) => order[i] !== undefined && setSelection(toggleRow(selection, order[i]!)),
    [order, selection],
  );
  const openIndex = useCallback((i: number) => rows[i] && open(rows[i].key), [rows, open]);
  useRowKeys({
    count: rows.length,
    focused,
    focus: setFocused,
    toggle: toggleIndex,
    open: openIndex,
  });

  function showUpdates() {
    live.clear();
    void client.invalidateQueries({ queryKey: ticketsKey });
  }
  const updates = live.changed.size;

  return (
    <section className="queue-page" aria-labelledby="queue-title">
      <div className="queue-head">
        <h1 id="queue-title">Tickets</h1>
        <SearchBox value={search.q ?? ""} onSearch={onSearch} />
        <label>
          Sort by
          <select
            value={search.ordering ?? DEFAULT_ORDERING}
            onChange={(e) => go(withFilter(search, "ordering", e.target.value))}
          >
            {ORDERINGS.map((o) => (
              <option key={o.value} value={o.value}>
                {o.label}
              </option>
            ))}
          </select>
        </label>
        <SavedViews search={search} onOpen={(href) => void navigate({ href })} />
        <ExportButtons
          project={project}
          filters={{ ...filtersOf(search), ...(search.project ? {} : project ? { project } : {}) }}
        />
      </div>
      <QueueFilters search={search} projects={projects} onChange={(next) => go(next)} />
      <div className="queue-tools">
        <label className="check">
          <input
            type="checkbox"
            checked={order.length > 0 && order.every((id) => selection.ids.has(id))}
            onChange={() => setSelection(toggleAll(selection, order))}
          />
          Select all on this page
        </label>
        <BulkBar
          selected={selection.ids}
          rows={rows}
          project={project}
          onDone={() => setSelection(emptySelection)}
        />
        <div role="status" className="live-marker">
          {(updates > 0 || live.stale) && (
            <button type="button" onClick={showUpdates}>
              {updates > 0 ? `${updates} updated - show` : "Updated - show"}
            </button>
          )}
        </div>
      </div>
      {tickets.isPending ? (
        <p role="status" className="queue-loading">
          Loading tickets…
        </p>
      ) : tickets.isError ? (
        <>
          <ErrorPanel
            message={`Could not load tickets: ${messageOf(tickets.error)}`}
            onRetry={() => void tickets.refetch()}
          />
          {hasFilters(search) && (
            <button type="button" onClick={() => go(clearFilters(search))}>
              Clear filters
            </button>
          )}
        </>
      ) : rows.length === 0 ? (
        <div className="empty-page">
          <p>No tickets match these filters</p>
          {hasFilters(search) && (
            <button type="button" className="primary" onClick={() => go(clearFilters(search))}>
              Clear filters
            </button>
          )}
        </div>
      ) : (
        <QueueTable
          rows={rows}
          selected={selection.ids}
          changed={live.changed}
          focused={focused}
          ordering={search.ordering ?? DEFAULT_ORDERING}
          onFocus={setFocused}
          onSelect={(id, shift) =>
            setSelection(shift ? selectRange(selection, order, id) : toggleRow(selection, id))
          }
          onOpen={open}
        />
      )}
      <nav className="pager" aria-label="Ticket pages">
        <button
          type="button"
          disabled={!tickets.data?.previous}
          onClick={() =>
            go({ ...search, cursor: cursorOf(tickets.data?.previous ?? null) ?? undefined })
          }
        >
          Previous
        </button>
        <button
          type="button"
          disabled={!tickets.data?.next}
          onClick={() =>
            go({ ...search, cursor: cursorOf(tickets.data?.next ?? null) ?? undefined })
          }
        >
          Next
        </button>
      </nav>
    </section>
  );
}
