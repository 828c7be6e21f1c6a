// Requests Node's HTTP parser refuses before any handler sees them (headers over 16 KB, a NUL or
// another forbidden byte in a header, a request too slow to arrive): Node answers them with an
// empty body; Synapse's clients read a Matrix JSON error on every answer, so they get one.

import { STATUS_CODES } from "node:http";
import type { Duplex } from "node:stream";
import { malformedRequest, requestHeadersTooLarge, requestTimeout } from "../errors";
import { CORS_HEADERS } from "../http/cors";

/** A `clientError` listener for the service's HTTP server. */
export function answerClientError(cors: boolean) {
  return (error: Error & { code?: string }, socket: Duplex): void => {
    // A client that went away (or a socket already answered) needs no answer.
    if (error.code === "ECONNRESET" || !socket.writable) {
      socket.destroy();
      return;
    }
    const answer =
      error.code === "HPE_HEADER_OVERFLOW"
        ? requestHeadersTooLarge()
        : error.code === "ERR_HTTP_REQUEST_TIMEOUT"
          ? requestTimeout()
          : malformedRequest();
    const body = JSON.stringify(answer.toJSON());
    const headers = [
      `HTTP/1.1 ${answer.status} ${STATUS_CODES[answer.status] ?? ""}`,
      "Content-Type: application/json",
      `Content-Length: ${Buffer.byteLength(body)}`,
      "Cache-Control: no-cache, no-store, must-revalidate",
      ...(cors ? CORS_HEADERS.map(([name, value]) => `${name}: ${value}`) : []),
      "Connection: close",
    ];
    socket.end(`${headers.join("\r\n")}\r\n\r\n${body}`);
  };
}
