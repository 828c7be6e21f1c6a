// One log line per request: method, path, status, duration. The access_token query parameter
// is masked before anything is logged, and headers are never logged at all.

import type { NextFunction, Request, Response } from "express";
import type { Logger } from "pino";

/** The request target with the value of every `access_token` parameter masked. */
export function redactTarget(target: string): { path: string; query: string | undefined } {
  const question = target.indexOf("?");
  if (question === -1) return { path: target, query: undefined };
  const query = target
    .slice(question + 1)
    .split("&")
    .map((pair) => {
      const equals = pair.indexOf("=");
      const name = equals === -1 ? pair : pair.slice(0, equals);
      let decoded = name;
      try {
        decoded = decodeURIComponent(name.replace(/\+/g, " "));
      } catch {
        // A broken escape cannot spell access_token; keep the name as it came.
      }
      return decoded === "access_token" ? `${name}=[redacted]` : pair;
    })
    .join("&");
  return { path: target.slice(0, question), query };
}

export function requestLogger(logger: Logger) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const started = process.hrtime.bigint();
    res.once("close", () => {
      const { path, query } = redactTarget(req.originalUrl);
      logger.info(
        {
          method: req.method,
          path,
          ...(query === undefined ? {} : { query }),
          status: res.statusCode,
          durationMs: Number(process.hrtime.bigint() - started) / 1e6,
          ...(res.writableFinished ? {} : { aborted: true }),
        },
        "request",
      );
    });
    next();
  };
}
