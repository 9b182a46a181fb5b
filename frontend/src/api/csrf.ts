// Django's CSRF cookie, echoed as X-CSRFToken on unsafe methods (session auth).
const SAFE = new Set(["GET", "HEAD", "OPTIONS", "TRACE"]);

export function readCookie(name: string, cookies: string = document.cookie): string | undefined {
  for (const part of cookies.split(";")) {
    const [key, ...rest] = part.trim().split("=");
    if (key === name) return decodeURIComponent(rest.join("="));
  }
  return undefined;
}

export function needsCsrf(method: string): boolean {
  return !SAFE.has(method.toUpperCase());
}

let pending: Promise<void> | null = null;

/** Make sure a csrftoken cookie exists (GET /api/v1/auth/csrf/ sets it). */
export async function ensureCsrfCookie(): Promise<string | undefined> {
  const existing = readCookie("csrftoken");
  if (existing) return existing;
  pending ??= fetch("/api/v1/auth/csrf/", { credentials: "same-origin" }).then(
    () => undefined,
    () => undefined,
  );
  await pending;
  pending = null;
  return readCookie("csrftoken");
}
