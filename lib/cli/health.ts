// Liveness and readiness probes on the service's own listener: `/health` answers `OK` as every
// Synapse listener does; `/health/ready` answers `OK` only while the database answers too.
// Probes come every few seconds, so each is logged at debug level; a change of readiness is
// logged once, at warn (not ready, with the cause) or info (ready again).

import { Router, type Response } from "express";
import type { Knex } from "knex";
import type { Logger as PinoLogger } from "pino";
import { describeError } from "../logger";

export const HEALTH_PATH = "/health";
export const READY_PATH = "/health/ready";

/** How long a readiness probe waits for the database before it answers 503. */
export const READY_TIMEOUT_MS = 5_000;

export interface HealthOptions {
  /** The pools whose databases must answer (the main one, and the state one when split off). */
  databases: readonly Knex[];
  logger: PinoLogger;
  /** True once the service is stopping: not ready any more, so balancers send nothing new. */
  stopping: () => boolean;
  timeoutMs?: number;
}

type Readiness = { ready: true } | { ready: false; reason: string; details: object };

export function healthRoutes(options: HealthOptions): Router {
  const { logger } = options;
  const timeoutMs = options.timeoutMs ?? READY_TIMEOUT_MS;
  // Probes that arrive together share one round trip to the database.
  let probing: Promise<Readiness> | undefined;
  // The service starts only once the database has answered: ready until a probe says not.
  let wasReady = true;

  const probe = async (): Promise<Readiness> => {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<Readiness>((resolve) => {
      timer = setTimeout(
        () =>
          resolve({
            ready: false,
            reason: "database did not answer",
            details: { timeoutMs },
          }),
        timeoutMs,
      );
    });
    const answered = Promise.all(options.databases.map((db) => db.raw("SELECT 1"))).then(
      (): Readiness => ({ ready: true }),
      (error: unknown): Readiness => ({
        ready: false,
        reason: "database unavailable",
        details: describeError(error),
      }),
    );
    try {
      return await Promise.race([answered, late]);
    } finally {
      clearTimeout(timer);
    }
  };

  const report = (readiness: Readiness): void => {
    if (readiness.ready === wasReady) return;
    wasReady = readiness.ready;
    if (readiness.ready) logger.info({}, "ready: the database answers");
    else logger.warn(readiness.details, `not ready: ${readiness.reason}`);
  };

  const router = Router({ caseSensitive: true, strict: true });
  router.get(HEALTH_PATH, (_req, res) => {
    logger.debug({ path: HEALTH_PATH }, "health probe");
    sendText(res, 200, "OK");
  });
  router.get(READY_PATH, (_req, res) => {
    if (options.stopping()) {
      sendText(res, 503, "stopping");
      return;
    }
    probing ??= probe().finally(() => {
      probing = undefined;
    });
    void probing.then((readiness) => {
      report(readiness);
      logger.debug({ path: READY_PATH, ready: readiness.ready }, "readiness probe");
      if (readiness.ready) sendText(res, 200, "OK");
      else sendText(res, 503, readiness.reason);
    });
  });
  return router;
}

function sendText(res: Response, status: number, text: string): void {
  res.statusCode = status;
  res.setHeader("Content-Type", "text/plain; charset=utf-8");
  res.setHeader("Cache-Control", "no-cache, no-store, must-revalidate");
  res.end(text);
}
