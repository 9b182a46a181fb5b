// `/inbox`: the caller's notifications, newest first, paged; mark one or all read.
import { useState } from "react";
import { useNavigate } from "@tanstack/react-router";
import { useInfiniteQuery } from "@tanstack/react-query";
import {
  inboxQuery,
  ticketKeyOf,
  useMarkAllRead,
  useMarkRead,
  type Notification,
} from "../../api/notifications";
import { messageOf } from "../../api/errors";
import { ErrorPanel } from "../../app/NotFound";
import { showToast } from "../../ui/toast";
import { isStaff } from "../../app/nav";
import { inboxRoute } from "./routes";

export function InboxPage() {
  const [unreadOnly, setUnreadOnly] = useState(false);
  const query = useInfiniteQuery(inboxQuery(unreadOnly));
  const markAll = useMarkAllRead();
  const items = query.data?.pages.flatMap((p) => p.results) ?? [];

  async function readAll() {
    try {
      const { updated } = await markAll.mutateAsync();
      showToast(
        updated === 1 ? "1 notification marked read" : `${updated} notifications marked read`,
        "info",
      );
    } catch (error) {
      showToast(messageOf(error), "error");
    }
  }

  return (
    <section className="inbox" aria-labelledby="inbox-title">
      <div className="inbox-head">
        <h1 id="inbox-title">Inbox</h1>
        <label className="inbox-filter">
          <input
            type="checkbox"
            checked={unreadOnly}
            onChange={(e) => setUnreadOnly(e.target.checked)}
          />{" "}
          Unread only
        </label>
        <button
          type="button"
          className="primary"
          onClick={() => void readAll()}
          disabled={markAll.isPending}
        >
          Mark all read
        </button>
      </div>
      {query.isPending ? (
        <p role="status">Loading notifications…</p>
      ) : query.isError ? (
        <ErrorPanel message={messageOf(query.error)} onRetry={() => void query.refetch()} />
      ) : items.length === 0 ? (
        <div className="empty-page">
          <h2>Nothing here</h2>
          <p>
            {unreadOnly ? "You have read every notification." : "You have no notifications yet."}
          </p>
        </div>
      ) : (
        <>
          <ul className="inbox-list" aria-label="Notifications">
            {items.map((n) => (
              <InboxItem key={n.id} notification={n} />
            ))}
          </ul>
          {query.hasNextPage && (
            <button
              type="button"
              onClick={() => void query.fetchNextPage()}
              disabled={query.isFetchingNextPage}
            >
              {query.isFetchingNextPage ? "Loading…" : "Load more"}
            </button>
          )}
        </>
      )}
    </section>
  );
}

function InboxItem({ notification: n }: { notification: Notification }) {
  const markRead = useMarkRead();
  const navigate = useNavigate();
  const key = ticketKeyOf(n);
  // Customers read their tickets in the portal; staff on the ticket page.
  const base = isStaff(inboxRoute.useRouteContext().me) ? "/tickets/" : "/portal/tickets/";
  const when = new Date(n.created_at);
  return (
    <li
      className={n.read ? "inbox-item" : "inbox-item unread"}
      aria-label={`${n.read ? "" : "Unread: "}${n.title}`}
    >
      <div className="inbox-text">
        <span className="inbox-title">
          {key ? (
            <a
              href={`${base}${encodeURIComponent(key)}`}
              onClick={(e) => {
                if (!n.read) markRead.mutate(n.id);
                if (e.metaKey || e.ctrlKey || e.shiftKey || e.button !== 0) return;
                e.preventDefault();
                void navigate({ href: `${base}${encodeURIComponent(key)}` });
              }}
            >
              {n.title}
            </a>
          ) : (
            n.title
          )}
        </span>
        <span className="inbox-meta">
          {n.actor ? `${n.actor} · ` : ""}
          <time dateTime={n.created_at}>{when.toLocaleString()}</time>
        </span>
      </div>
      {!n.read && (
        <button
          type="button"
          onClick={() =>
            markRead.mutate(n.id, { onError: (error) => showToast(messageOf(error), "error") })
          }
          disabled={markRead.isPending}
          aria-label={`Mark read: ${n.title}`}
        >
          Mark read
        </button>
      )}
    </li>
  );
}
