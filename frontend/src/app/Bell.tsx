// The shell's bell: unread notifications, also in the tab title ("(3) Helpline").
import { useEffect } from "react";
import { Link } from "@tanstack/react-router";
import { useQuery } from "@tanstack/react-query";
import { unreadCountQuery } from "../api/notifications";

const TITLE = "Helpline";

export function titleFor(unread: number): string {
  return unread > 0 ? `(${unread}) ${TITLE}` : TITLE;
}

export function Bell() {
  const { data: unread = 0 } = useQuery(unreadCountQuery);
  useEffect(() => {
    document.title = titleFor(unread);
  }, [unread]);
  const label = unread === 1 ? "Inbox, 1 unread" : `Inbox, ${unread} unread`;
  return (
    <Link to="/inbox" className="bell" aria-label={label}>
      <svg aria-hidden="true" viewBox="0 0 24 24" width="20" height="20">
        <path
          fill="currentColor"
          d="M12 22a2.5 2.5 0 0 0 2.45-2h-4.9A2.5 2.5 0 0 0 12 22Zm7-6V11a7 7 0 0 0-5.5-6.84V3a1.5 1.5 0 0 0-3 0v1.16A7 7 0 0 0 5 11v5l-2 2v1h18v-1l-2-2Z"
        />
      </svg>
      {unread > 0 && (
        <span className="bell-count" data-testid="unread-count">
          {unread > 99 ? "99+" : unread}
        </span>
      )}
    </Link>
  );
}
