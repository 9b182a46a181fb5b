import { describe, expect, it } from "vitest";
import { ApiError, messageOf, toApiError } from "./errors";

describe("the error envelope", () => {
  it("becomes an ApiError with the API's code, message, details and request id", () => {
    const error = toApiError(409, {
      error: {
        code: "stale_position",
        message: "The neighbours moved; reload.",
        details: { current: { status: "open", column: 3, before: 7, after: null } },
        request_id: "r-1",
      },
    });
    expect(error).toBeInstanceOf(ApiError);
    expect(error.status).toBe(409);
    expect(error.code).toBe("stale_position");
    expect(error.message).toBe("The neighbours moved; reload.");
    expect(error.details).toEqual({
      current: { status: "open", column: 3, before: 7, after: null },
    });
    expect(error.requestId).toBe("r-1");
    expect(messageOf(error)).toBe("The neighbours moved; reload.");
  });

  it("names a body that is not an envelope by its status", () => {
    expect(toApiError(502, "<html>bad gateway</html>").code).toBe("server_error");
    expect(toApiError(502, null).message).toBe("The desk answered 502.");
    expect(toApiError(404, { detail: "x" }).code).toBe("error");
    expect(toApiError(0, null).code).toBe("network_error");
  });

  it("keeps an envelope without details as empty details", () => {
    expect(
      toApiError(400, { error: { code: "validation_error", message: "No." } }).details,
    ).toEqual({});
  });
});
