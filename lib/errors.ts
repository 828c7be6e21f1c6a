// Every error the router can answer with, declared once: status, errcode and default message;
// and the one kind of failure that is only logged, never shown.

/** The Matrix error codes this package answers with. */
export const Errcode = {
  MISSING_TOKEN: "M_MISSING_TOKEN",
  UNKNOWN_TOKEN: "M_UNKNOWN_TOKEN",
  FORBIDDEN: "M_FORBIDDEN",
  GUEST_ACCESS_FORBIDDEN: "M_GUEST_ACCESS_FORBIDDEN",
  USER_LOCKED: "M_USER_LOCKED",
  INVALID_PARAM: "M_INVALID_PARAM",
  UNRECOGNIZED: "M_UNRECOGNIZED",
  UNKNOWN: "M_UNKNOWN",
} as const;

export type Errcode = (typeof Errcode)[keyof typeof Errcode];

/** The JSON body of every error response, as Synapse sends it. */
export interface MatrixErrorBody {
  errcode: Errcode;
  error: string;
}

/**
 * An error that is answered to the client as it is: the status, `errcode` and `error` are
 * all safe to show. Anything that is not a MatrixError becomes the generic 500.
 */
export class MatrixError extends Error {
  readonly status: number;
  readonly errcode: Errcode;
  /** Response headers that belong to this answer, such as `Retry-After` on a 503. */
  readonly headers: Readonly<Record<string, string>>;

  constructor(
    status: number,
    errcode: Errcode,
    error: string,
    headers: Readonly<Record<string, string>> = {},
  ) {
    super(error);
    this.name = "MatrixError";
    this.status = status;
    this.errcode = errcode;
    this.headers = headers;
  }

  /** The response body: `{ errcode, error }`. */
  toJSON(): MatrixErrorBody {
    return { errcode: this.errcode, error: this.message };
  }
}

// Messages follow Synapse's wording, so clients that show them read the same.
export const missingToken = (message = "Missing access token."): MatrixError =>
  new MatrixError(401, Errcode.MISSING_TOKEN, message);

export const unknownToken = (): MatrixError =>
  new MatrixError(401, Errcode.UNKNOWN_TOKEN, "Unrecognised access token.");

// Synapse refuses guests before it looks at anything else, the admin flag included.
export const guestAccessForbidden = (): MatrixError =>
  new MatrixError(403, Errcode.GUEST_ACCESS_FORBIDDEN, "Guest access not allowed");

export const notServerAdmin = (): MatrixError =>
  new MatrixError(403, Errcode.FORBIDDEN, "You are not a server admin");

export const invalidParam = (message: string): MatrixError =>
  new MatrixError(400, Errcode.INVALID_PARAM, message);

export const requiresPostgres = (): MatrixError =>
  new MatrixError(400, Errcode.UNKNOWN, "Endpoint requires using PostgreSQL");

export const methodNotAllowed = (): MatrixError =>
  new MatrixError(405, Errcode.UNRECOGNIZED, "Unrecognized request");

// What the CLI answers for requests Node's HTTP parser refuses before any handler sees them.
export const requestHeadersTooLarge = (): MatrixError =>
  new MatrixError(431, Errcode.UNKNOWN, "Request header fields too large");

export const malformedRequest = (): MatrixError =>
  new MatrixError(400, Errcode.UNKNOWN, "Malformed HTTP request");

export const requestTimeout = (): MatrixError =>
  new MatrixError(408, Errcode.UNKNOWN, "Request timed out");

/**
 * A failure that should pass: the database is unreachable or conflicted for now, or too many
 * heavy requests are queued. Clients and proxies read `Retry-After` (whole seconds).
 */
export const serviceUnavailable = (message: string, retryAfterSeconds: number): MatrixError =>
  new MatrixError(503, Errcode.UNKNOWN, message, {
    "Retry-After": String(Math.max(1, Math.ceil(retryAfterSeconds))),
  });

/** The one body a client sees for anything unexpected; the detail goes to the log only. */
export const internalError = (): MatrixError =>
  new MatrixError(500, Errcode.UNKNOWN, "Internal server error");

/** An unexpected failure with a message for the log; the client only ever sees the generic 500. */
export class InternalFailure extends Error {
  constructor(
    message: string,
    readonly details: Record<string, unknown> = {},
    readonly cause?: unknown,
  ) {
    super(message);
    this.name = "InternalFailure";
  }
}

/**
 * The client closed its connection before its answer was complete, and what still ran for it
 * was stopped. Nothing is answered (no one is left to read it) and nothing is logged as a
 * failure: nothing failed on our side.
 */
export class ClientGoneError extends Error {
  constructor() {
    super("the client went away before its answer was complete");
    this.name = "ClientGoneError";
  }
}

/**
 * A failure after part of the answer was sent: logged where it happens, and the connection
 * cut, so the client sees a short body. Never retried: the answer cannot be taken back.
 */
export class AnswerCutShort extends InternalFailure {
  constructor(cause: unknown) {
    super("the answer failed after it had begun; the connection was cut", {}, cause);
    this.name = "AnswerCutShort";
  }
}
