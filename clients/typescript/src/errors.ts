import type { ErrorCode } from "./frames.js";

/**
 * Codes the client itself raises, beside the gateway's: a reply that did not
 * come in time, a socket lost while a reply was due, a client that was closed.
 */
export type ClientErrorCode = "TIMEOUT" | "CONNECTION_LOST" | "CLOSED";

/** A refused request: the gateway's `error` frame or REST error body, or a client-side failure. */
export class DiminuendoError extends Error {
  readonly code: ErrorCode | ClientErrorCode;
  readonly requestId: string | undefined;
  /** Set on RATE_LIMITED and AUTH_RATE_LIMITED: wait this long before retrying. */
  readonly retryAfterMs: number | undefined;
  /** The session the refused message named, when it named one. */
  readonly sessionId: string | undefined;

  constructor(
    code: ErrorCode | ClientErrorCode,
    message: string,
    extra: { requestId?: string | undefined; retryAfterMs?: number | undefined; sessionId?: string | undefined } = {},
  ) {
    super(message);
    this.name = "DiminuendoError";
    this.code = code;
    this.requestId = extra.requestId;
    this.retryAfterMs = extra.retryAfterMs;
    this.sessionId = extra.sessionId;
  }
}
