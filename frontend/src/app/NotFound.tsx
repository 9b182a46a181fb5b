import { Link } from "@tanstack/react-router";

export function NotFound() {
  return (
    <div className="empty-page">
      <h1>Not found</h1>
      <p>This page does not exist, or you may not see it.</p>
      <Link to="/">Go to the start page</Link>
    </div>
  );
}

export function ErrorPanel({ message, onRetry }: { message: string; onRetry: () => void }) {
  return (
    <div className="empty-page" role="alert">
      <h1>Something failed</h1>
      <p>{message}</p>
      <button type="button" className="primary" onClick={onRetry}>
        Retry
      </button>
    </div>
  );
}
