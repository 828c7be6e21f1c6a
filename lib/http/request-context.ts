// The fields that place a log line in its request: an id shared by all of that request's lines,
// the method, and the full path and query as the client sent them (secrets masked).

import { randomBytes } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { redactRequestTarget } from "../redact";

export interface RequestLogContext {
  requestId: string;
  method: string | undefined;
  /** The full path, mount included: what the client asked for, not the router's part of it. */
  path: string;
  query?: string;
}

type RequestWithId = IncomingMessage & { id?: unknown; originalUrl?: string };

/** A fresh request id: 16 random bytes, base64url (22 characters). */
export const newRequestId = (): string => randomBytes(16).toString("base64url");

/**
 * The request's id. A host app that names its requests (pino-http, express-request-id and the
 * CLI set `req.id`) has its id used, so the router's lines join the host's own; otherwise one
 * is made and set on `req.id`, for the host's lines that come after.
 */
export function requestIdOf(req: IncomingMessage): string {
  const withId = req as RequestWithId;
  if (typeof withId.id === "string" || typeof withId.id === "number") return String(withId.id);
  const id = newRequestId();
  withId.id = id;
  return id;
}

/** What a log line about this request says of it. */
export function requestLogContext(req: IncomingMessage): RequestLogContext {
  const withId = req as RequestWithId;
  // express rewrites `req.url` inside a mount; `originalUrl` keeps what the client sent.
  const { path, query } = redactRequestTarget(withId.originalUrl ?? req.url ?? "");
  return {
    requestId: requestIdOf(req),
    method: req.method,
    path,
    ...(query === undefined ? {} : { query }),
  };
}
