// Finds the access token of a request with Synapse's rules: an `Authorization: Bearer` header
// or an `access_token` query parameter, never both, never ambiguous.

import type { IncomingMessage } from "node:http";
import { missingToken } from "../errors";
import type { RawQuery } from "./query-string";

/**
 * The token the request carries. Throws 401 M_MISSING_TOKEN when there is none, when both a
 * header and the query parameter are given, when there are several Authorization headers, or
 * when the header is not exactly `Bearer <token>` (one space, case-sensitive scheme).
 */
export function extractAccessToken(req: IncomingMessage, query: RawQuery): string {
  // Node keeps only the first of repeated Authorization headers in `req.headers`; the raw
  // list shows them all.
  const headers: string[] = [];
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    if ((req.rawHeaders[i] as string).toLowerCase() === "authorization") {
      headers.push(req.rawHeaders[i + 1] as string);
    }
  }
  if (headers.length > 0) {
    if (query.has("access_token")) {
      throw missingToken("Mixing Authorization headers and access_token query parameters.");
    }
    if (headers.length > 1) {
      throw missingToken("Too many Authorization headers.");
    }
    const parts = (headers[0] as string).split(" ");
    if (parts.length !== 2 || parts[0] !== "Bearer") {
      throw missingToken("Invalid Authorization header.");
    }
    return parts[1] as string;
  }
  const fromQuery = query.firstBytes("access_token");
  if (fromQuery === undefined) {
    throw missingToken();
  }
  // Not UTF-8-checked: bytes that no token has are simply an unknown token, answered as such.
  return fromQuery.toString("utf8");
}
