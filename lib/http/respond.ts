// Writes responses with Node's own API, so the router behaves the same whichever express
// major (and response helpers) the host app runs.

import type { ServerResponse } from "node:http";
import { describeError, type Logger } from "../logger";
import { ClientGoneError, internalError, InternalFailure, MatrixError } from "../errors";

/** Sends a JSON body: compact, UTF-8, never cached (admin data changes and is private). */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const payload = JSON.stringify(body);
  setJsonHeaders(res, status);
  res.setHeader("Content-Length", Buffer.byteLength(payload));
  res.end(payload);
}

function setJsonHeaders(res: ServerResponse, status: number): void {
  res.statusCode = status;
  res.setHeader("Content-Type", "application/json");
  res.setHeader("Cache-Control", "no-cache, no-store, must-revalidate");
}

/**
 * A JSON object written as it is produced: first `arrayKey`, an array whose elements are
 * written as `elements` yields them (in batches), then the members `after` answers once all
 * are written. The bytes are those JSON.stringify gives for the same object, whole.
 */
export class StreamedJsonObject {
  constructor(
    readonly arrayKey: string,
    readonly elements: AsyncIterable<readonly unknown[]>,
    /** The members that follow the array; `count` is how many elements it held. */
    readonly after: (count: number) => Record<string, unknown>,
  ) {}
}

// Elements are written in chunks of about this many characters: a chunk per element would
// cost a system call and chunked-encoding framing each.
const STREAM_CHUNK_CHARS = 64 * 1024;

/**
 * Sends a JSON body, streamed when it is a StreamedJsonObject: then without Content-Length,
 * each chunk written once the client has taken the previous ones (backpressure), so a large
 * page never sits whole in memory. Nothing is sent before the first chunk is full, so a
 * failure early on still gets its error answer. Rejects with ClientGoneError when the client
 * leaves first.
 */
export async function sendBody(res: ServerResponse, status: number, body: unknown): Promise<void> {
  if (!(body instanceof StreamedJsonObject)) {
    sendJson(res, status, body);
    return;
  }
  let chunk = `{${JSON.stringify(body.arrayKey)}:[`;
  let count = 0;
  let started = false;
  const flush = async (): Promise<void> => {
    if (!started) {
      setJsonHeaders(res, status);
      started = true;
    }
    if (res.destroyed) throw new ClientGoneError();
    const text = chunk;
    chunk = "";
    if (!res.write(text)) await drained(res);
  };
  for await (const batch of body.elements) {
    for (const element of batch) {
      chunk += (count === 0 ? "" : ",") + JSON.stringify(element);
      count++;
      if (chunk.length >= STREAM_CHUNK_CHARS) await flush();
    }
  }
  const after = JSON.stringify(body.after(count));
  chunk += after === "{}" ? "]}" : `],${after.slice(1)}`;
  if (!started) {
    // It all fitted in one chunk: an ordinary response, with its length.
    setJsonHeaders(res, status);
    res.setHeader("Content-Length", Buffer.byteLength(chunk));
  }
  res.end(chunk);
}

/** Resolves once `res` can take more; rejects with ClientGoneError if it closes first. */
function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve, reject) => {
    const settle = (error?: Error): void => {
      res.off("drain", onDrain);
      res.off("close", onClose);
      if (error) reject(error);
      else resolve();
    };
    const onDrain = (): void => settle();
    const onClose = (): void => settle(new ClientGoneError());
    res.on("drain", onDrain);
    res.on("close", onClose);
  });
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
