// Attachment upload through XMLHttpRequest (fetch has no upload progress); the server's refusals
// (413 payload_too_large, 400 validation_error with the allowed types) come back as ApiError.
import { ensureCsrfCookie } from "./csrf";
import { toApiError } from "./errors";
import type { Attachment } from "./ticketTypes";

export interface UploadHandle {
  done: Promise<Attachment>;
  abort(): void;
}

export function uploadAttachment(
  ticketId: number,
  file: File,
  onProgress: (fraction: number) => void,
): UploadHandle {
  const xhr = new XMLHttpRequest();
  const done = (async () => {
    const token = await ensureCsrfCookie();
    return new Promise<Attachment>((resolve, reject) => {
      xhr.open("POST", `/api/v1/tickets/${ticketId}/attachments/`);
      xhr.withCredentials = true;
      xhr.setRequestHeader("Accept", "application/json");
      if (token) xhr.setRequestHeader("X-CSRFToken", token);
      xhr.upload.onprogress = (event) => {
        if (event.lengthComputable) onProgress(event.loaded / event.total);
      };
      xhr.onload = () => {
        let body: unknown;
        try {
          body = xhr.responseText ? JSON.parse(xhr.responseText) : null;
        } catch {
          body = null;
        }
        if (xhr.status >= 200 && xhr.status < 300) {
          onProgress(1);
          resolve(body as Attachment);
        } else reject(toApiError(xhr.status, body));
      };
      xhr.onerror = () => reject(toApiError(0, null));
      xhr.onabort = () => reject(toApiError(0, null));
      const form = new FormData();
      form.append("file", file);
      xhr.send(form);
    });
  })();
  return { done, abort: () => xhr.abort() };
}

/** "1.2 MB", "340 KB", "12 B". */
export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
  if (bytes >= 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${bytes} B`;
}

/** The sentence for a refused upload: the API's message plus the limit or the accepted types. */
export function refusalText(error: {
  message: string;
  code?: string;
  details?: Record<string, unknown>;
}): string {
  const details = error.details ?? {};
  if (typeof details.max_bytes === "number")
    return `${error.message} The limit is ${formatBytes(details.max_bytes)}.`;
  if (Array.isArray(details.allowed))
    return `${error.message} Accepted types: ${details.allowed.join(", ")}.`;
  return error.message;
}
