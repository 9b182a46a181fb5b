// Saved views: the caller's named filter sets. Opening one is a link (shareable as it is); the
// current filters can be saved under a name; a view can be deleted.
import { useRef, useState, type FormEvent } from "react";
import { useQuery } from "@tanstack/react-query";
import { savedViewsQuery, useDeleteView, useSaveView } from "../../api/savedViews";
import { messageOf } from "../../api/errors";
import { showToast } from "../../ui/toast";
import { toQueryString, type QueueSearch } from "./search";

export function SavedViews({
  search,
  onOpen,
}: {
  search: QueueSearch;
  onOpen(href: string): void;
}) {
  const views = useQuery(savedViewsQuery);
  const save = useSaveView();
  const remove = useDeleteView();
  const [name, setName] = useState("");
  const [error, setError] = useState<string | null>(null);
  const panel = useRef<HTMLDetailsElement>(null);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setError(null);
    try {
      const view = await save.mutateAsync({
        name: name.trim(),
        query: toQueryString(search),
        project: search.project ?? null,
      });
      setName("");
      showToast(`Saved view “${view.name}”`, "info");
    } catch (e) {
      setError(messageOf(e));
    }
  }

  return (
    <details className="saved-views" ref={panel}>
      <summary>Saved views</summary>
      <div className="saved-views-panel">
        {views.isError && <p role="alert">{messageOf(views.error)}</p>}
        <ul aria-label="Saved views">
          {(views.data ?? []).map((view) => {
            const href = `/tickets${view.query_string ? `?${view.query_string}` : ""}`;
            return (
              <li key={view.id}>
                <a
                  href={href}
                  onClick={(e) => {
                    if (e.metaKey || e.ctrlKey || e.shiftKey || e.button !== 0) return;
                    e.preventDefault();
                    // The chosen view's rows are what one came for: the panel gets out of the way.
                    if (panel.current) panel.current.open = false;
                    onOpen(href);
                  }}
                >
                  {view.name}
                </a>
                <button
                  type="button"
                  className="link-button"
                  aria-label={`Delete view ${view.name}`}
                  onClick={() =>
                    remove.mutate(view.id, { onError: (e) => showToast(messageOf(e), "error") })
                  }
                >
                  Delete
                </button>
              </li>
            );
          })}
          {views.data?.length === 0 && <li className="muted">No saved views yet</li>}
        </ul>
        <form onSubmit={(e) => void submit(e)}>
          <label>
            View name
            <input
              value={name}
              onChange={(e) => setName(e.target.value)}
              required
              maxLength={100}
            />
          </label>
          <button type="submit" disabled={save.isPending}>
            Save current filters
          </button>
          {error && <p role="alert">{error}</p>}
        </form>
      </div>
    </details>
  );
}
