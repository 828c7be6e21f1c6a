// Writes responses with Node's own API, so the router behaves the same whichever express
// major (and response helpers) the host app runs.

import type { ServerResponse } from "node:http";
import { describeError, type Logger } from "../logger";
import { internalError, InternalFailure, MatrixError } from "../errors";

/** Sends a JSON body: compact, UTF-8, never cached (admin data changes and is private). */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const payload = JSON.stringify(body);
  res.statusCode = status;
  res.setHeader("Content-Type", "application/json");
  res.setHeader("Content-Length", Buffer.byteLength(payload));
  res.setHeader("Cache-Control", "no-cache, no-store, must-revalidate");
  res.end(payload);
}

/**
 * Answers an error. A MatrixError is sent as it is; anything else is logged with the fields of
 * `context` that place it (request id, method, path), with `secrets` (the request's token)
 * blanked out of its message, and answered with the generic 500 M_UNKNOWN body.
 */
export function sendError(
  res: ServerResponse,
  error: unknown,
  logger: Logger,
  context: { secrets: readonly string[] } & Record<string, unknown>,
): void {
  let matrixError: MatrixError;
  if (error instanceof MatrixError) {
    matrixError = error;
  } else {
    const { secrets: _secrets, ...where } = context;
    // The host's logger is not trusted not to throw: the client gets its answer regardless.
    try {
      if (error instanceof InternalFailure) {
        logger.error(
          {
            ...where,
            ...error.details,
            ...(error.cause === undefined ? {} : describeError(error.cause, context.secrets)),
          },
          error.message,
        );
      } else {
        logger.error({ ...where, ...describeError(error, context.secrets) }, "request failed");
      }
    } catch {
      // Nowhere left to report it.
    }
    matrixError = internalError();
  }
  if (res.headersSent) {
    // Nothing sensible can follow a body already under way; the client sees a cut connection.
    res.destroy();
    return;
  }
  for (const [name, value] of Object.entries(matrixError.headers)) res.setHeader(name, value);
  sendJson(res, matrixError.status, matrixError.toJSON());
}
