// The API's one error envelope -> a typed error the UI can show in the API's own words.
export interface ErrorEnvelope {
  error: { code: string; message: string; details?: Record<string, unknown>; request_id?: string };
}

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: Record<string, unknown>;
  readonly requestId: string | undefined;

  constructor(
    status: number,
    code: string,
    message: string,
    details: Record<string, unknown> = {},
    requestId?: string,
  ) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.details = details;
    this.requestId = requestId;
  }
}

function isEnvelope(body: unknown): body is ErrorEnvelope {
  if (typeof body !== "object" || body === null || !("error" in body)) return false;
  const error = (body as { error: unknown }).error;
  return (
    typeof error === "object" &&
    error !== null &&
    typeof (error as { code?: unknown }).code === "string" &&
    typeof (error as { message?: unknown }).message === "string"
  );
}

/** Any failed response (status + parsed body, or none) as an ApiError. */
export function toApiError(status: number, body: unknown): ApiError {
  if (isEnvelope(body)) {
    const { code, message, details, request_id } = body.error;
    return new ApiError(status, code, message, details ?? {}, request_id);
  }
  if (status === 0) return new ApiError(0, "network_error", "The desk could not be reached.");
  return new ApiError(
    status,
    status >= 500 ? "server_error" : "error",
    `The desk answered ${status}.`,
  );
}

/** The sentence to show a person for any thrown value. */
export function messageOf(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  if (error instanceof Error) return error.message;
  return "Something went wrong.";
}
