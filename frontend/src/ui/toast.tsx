// Toasts: errors in an `alert`, news in a `status`, both in the API's own words. One small store.
import { useSyncExternalStore } from "react";

export interface Toast {
  id: number;
  kind: "error" | "info";
  message: string;
}

let toasts: Toast[] = [];
let nextId = 1;
const listeners = new Set<() => void>();

function emit() {
  for (const listener of listeners) listener();
}

export function dismissToast(id: number): void {
  toasts = toasts.filter((t) => t.id !== id);
  emit();
}

export function showToast(message: string, kind: Toast["kind"] = "info", ttlMs = 6000): number {
  const id = nextId++;
  toasts = [...toasts.slice(-3), { id, kind, message }];
  emit();
  setTimeout(() => dismissToast(id), ttlMs);
  return id;
}

function useToasts(): Toast[] {
  return useSyncExternalStore(
    (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    () => toasts,
  );
}

export function Toaster() {
  const list = useToasts();
  const errors = list.filter((t) => t.kind === "error");
  const news = list.filter((t) => t.kind === "info");
  return (
    <div className="toasts">
      <div role="alert" className="toast-stack">
        {errors.map((t) => (
          <ToastItem key={t.id} toast={t} />
        ))}
      </div>
      <div role="status" aria-live="polite" className="toast-stack">
        {news.map((t) => (
          <ToastItem key={t.id} toast={t} />
        ))}
      </div>
    </div>
  );
}

function ToastItem({ toast }: { toast: Toast }) {
  return (
    <div className={`toast toast-${toast.kind}`}>
      <span>{toast.message}</span>
      <button
        type="button"
        className="icon-button"
        aria-label="Dismiss"
        onClick={() => dismissToast(toast.id)}
      >
        ×
      </button>
    </div>
  );
}
