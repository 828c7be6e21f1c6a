// One log line per request: its id, method, path, query, status, duration and outcome. Every
// secret in the path and query is masked first (see redactRequestTarget), and headers are
// never logged, but for a proxy's request id when it is a plain one.

import type { NextFunction, Request, Response } from "express";
import type { Logger } from "pino";
import { newRequestId } from "../http/request-context";
import { looksLikeToken, redactRequestTarget } from "../redact";

// What proxies send: nginx's $request_id is 32 hex digits, others send UUIDs. Neither is the
// shape of any Synapse or MAS token (those carry a prefix, or are base64).
const HEX_OR_UUID = /^(?:[0-9A-Fa-f]{8,64}|[0-9A-Fa-f]{8}(?:-[0-9A-Fa-f]{4}){3}-[0-9A-Fa-f]{12})$/;
const PLAIN_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/**
 * The proxy's X-Request-ID, when it is one: hex digits or a UUID, or another short plain id
 * that is not shaped like a token (a client may send anything in this header). It is logged
 * beside the service's own id, never instead of it: a client choosing the id could make its
 * requests pass for another's.
 */
function upstreamRequestId(value: string | string[] | undefined): string | undefined {
  if (typeof value !== "string") return undefined;
  if (HEX_OR_UUID.test(value)) return value;
  return PLAIN_ID.test(value) && !looksLikeToken(value) ? value : undefined;
}

export function requestLogger(logger: Logger) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const started = process.hrtime.bigint();
    // The router logs under `req.id` too, so a request's lines share one id; the client gets it
    // in the answer, to quote when it reports a problem.
    const requestId = newRequestId();
    (req as { id?: unknown }).id = requestId;
    res.setHeader("X-Request-ID", requestId);
    const upstream = upstreamRequestId(req.headers["x-request-id"]);
    res.once("close", () => {
      const { path, query } = redactRequestTarget(req.originalUrl);
      const completed = res.writableFinished;
      logger.info(
        {
          requestId,
          ...(upstream === undefined ? {} : { upstreamRequestId: upstream }),
          method: req.method,
          path,
          ...(query === undefined ? {} : { query }),
          // A client that left before its answer was sent got no status: none is logged.
          ...(completed || res.headersSent ? { status: res.statusCode } : {}),
          durationMs: Number(process.hrtime.bigint() - started) / 1e6,
          outcome: completed ? "completed" : "client closed",
        },
        "request",
      );
    });
    next();
  };
}
