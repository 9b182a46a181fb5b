// One HTTP client for the whole app: openapi-fetch over the generated schema, the session cookie,
// X-CSRFToken on unsafe methods, and every failure turned into an ApiError (the API's envelope).
import createClient, { type Middleware } from "openapi-fetch";
import type { paths } from "./schema";
import { ensureCsrfCookie, needsCsrf, readCookie } from "./csrf";
import { ApiError, toApiError } from "./errors";

const csrf: Middleware = {
  async onRequest({ request }) {
    if (needsCsrf(request.method)) {
      const token = await ensureCsrfCookie();
      if (token) request.headers.set("X-CSRFToken", token);
    }
    return request;
  },
};

export const api = createClient<paths>({ baseUrl: "", credentials: "same-origin" });
api.use(csrf);

/** Unwrap an openapi-fetch result: the data, or throw the envelope as an ApiError. */
export function unwrap<T>(result: { data?: T; error?: unknown; response: Response }): T {
  if (result.response.ok) return result.data as T;
  throw toApiError(result.response.status, result.error);
}

/**
 * For endpoints whose schema is still being made exact (shapes typed in ./types.ts): the same cookie,
 * CSRF and envelope rules as `api`.
 */
export async function request<T>(method: string, url: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (needsCsrf(method)) {
    // With the cookie present, no await before fetch: the request leaves in the caller's task (a
    // drop's PATCH goes out before React renders the optimistic board, not after).
    const token = readCookie("csrftoken") ?? (await ensureCsrfCookie());
    if (token) headers["X-CSRFToken"] = token;
  }
  let response: Response;
  try {
    response = await fetch(url, {
      method,
      headers,
      credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw toApiError(0, null);
  }
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = null;
  }
  if (!response.ok) throw toApiError(response.status, parsed);
  return parsed as T;
}

export { ApiError };
