// createStatisticsRouter: checks the options, then mounts each endpoint behind the same
// CORS, admin check and error shaping.

import { Router, type Request, type Response } from "express";
import type { Knex } from "knex";
import { EXTENSION_ENDPOINTS, SYNAPSE_ENDPOINTS, type EndpointHandler } from "./endpoints";
import { largestMediaEndpoint } from "./endpoints/largest-media";
import { remoteOriginsEndpoint } from "./endpoints/remote-origins";
import { storageOverviewEndpoint } from "./endpoints/storage-overview";
import { largestRoomsEndpoint } from "./endpoints/rooms";
import { usersMediaEndpoint } from "./endpoints/users-media";
import { AnswerCutShort, ClientGoneError, methodNotAllowed } from "./errors";
import { Admission } from "./execution/admission";
import { admissionLimits } from "./execution/limits";
import { inRequestScope } from "./execution/scope";
import { retryTransient } from "./execution/transient";
import { authenticateAdmin } from "./http/authenticate";
import { setCorsHeaders } from "./http/cors";
import { refuseMisspeltPrefix } from "./http/mount-path";
import { rawQueryOf } from "./http/query-string";
import { requestLogContext } from "./http/request-context";
import { sendBody, sendError, sendJson } from "./http/respond";
import { resolveOptions, type ResolvedOptions } from "./options";
import type { StatisticsRouterOptions } from "./types";

/** The paths the router serves, relative to where it is mounted (normally `/_synapse/admin`). */
export const STATISTICS_PATHS = {
  usersMedia: usersMediaEndpoint.contract.path,
  largestRooms: largestRoomsEndpoint.contract.path,
  storageOverview: storageOverviewEndpoint.contract.path,
  remoteMediaOrigins: remoteOriginsEndpoint.contract.path,
  largestMedia: largestMediaEndpoint.contract.path,
} as const;

/**
 * An express Router serving the Synapse admin statistics endpoints, and this package's own
 * storage endpoints unless `storageEndpoints` is false. Mount it at `/_synapse/admin`. Options
 * are checked here, once: a mistake throws a TypeError naming it.
 */
export function createStatisticsRouter(options: StatisticsRouterOptions): Router {
  const resolved = resolveOptions(options);
  // Each database admits its own share of requests, sized to its own pool.
  const admissions = new Map<Knex, Admission>();
  for (const db of [resolved.knex, resolved.stateKnex]) {
    if (!admissions.has(db)) admissions.set(db, new Admission(admissionLimits(db, resolved)));
  }
  const admissionFor = (db: Knex): Admission => {
    const admission = admissions.get(db);
    if (admission === undefined)
      throw new TypeError("a request used a database the router was not given");
    return admission;
  };

  // Synapse's paths are exact: no trailing slash, no other case, its prefix included.
  const router = Router({ caseSensitive: true, strict: true });
  router.use(refuseMisspeltPrefix);
  const endpoints = resolved.storageEndpoints
    ? [...SYNAPSE_ENDPOINTS, ...EXTENSION_ENDPOINTS]
    : SYNAPSE_ENDPOINTS;
  for (const endpoint of endpoints) {
    const handler = endpoint.createHandler(resolved);
    router.all(endpoint.contract.path, (req, res, next) => {
      if (resolved.cors) setCorsHeaders(res);
      switch (req.method) {
        case "GET":
        case "HEAD":
          // serve() answers every error itself; should even that fail, cut the connection.
          serve(req, res, handler, resolved, admissionFor).catch(() => res.destroy());
          return;
        case "OPTIONS":
          // A preflight carries no token; when the host does CORS itself, it answers.
          if (resolved.cors) sendJson(res, 200, {});
          else next();
          return;
        default:
          res.setHeader("Allow", resolved.cors ? "GET, HEAD, OPTIONS" : "GET, HEAD");
          sendError(res, methodNotAllowed(), resolved.logger, { secrets: [] });
      }
    });
  }
  return router;
}

/**
 * Runs one request: admin check first, then the endpoint in a scope of its own (admission,
 * one transaction per database, cancelled if the client leaves); never lets an error escape.
 */
async function serve(
  req: Request,
  res: Response,
  handler: EndpointHandler,
  resolved: ResolvedOptions,
  admissionFor: (db: Knex) => Admission,
): Promise<void> {
  const secrets: string[] = [];
  const where = () => ({ ...requestLogContext(req), secrets });
  // The client may leave before its answer is ready: whatever still runs for it can stop.
  const abandoned = new AbortController();
  const { signal } = abandoned;
  const onClose = (): void => {
    if (!res.writableFinished) abandoned.abort();
  };
  res.once("close", onClose);
  try {
    const query = rawQueryOf(req);
    await authenticateAdmin(req, query, resolved.authCheck, (token) => secrets.push(token));
    const logContext = () => requestLogContext(req);
    // One attempt: a fresh scope, and the answer written inside it, since a large page is
    // read from the database as it is written. It throws only before any of the answer is
    // out, so running it again is always safe.
    const attempt = (): Promise<void> =>
      inRequestScope({ signal, admissionFor, logger: resolved.logger }, async (scope) => {
        const body = await handler(query, { signal, scope, logContext });
        try {
          await sendBody(res, 200, body);
        } catch (error) {
          if (!res.headersSent || error instanceof ClientGoneError) throw error;
          // Part of the answer is out: it can be neither retried nor answered otherwise.
          sendError(res, new AnswerCutShort(error), resolved.logger, where());
        }
      });
    // A standby's recovery conflict or a dropped connection: the attempt runs again, in a
    // fresh scope on a fresh connection.
    await retryTransient(attempt, { logger: resolved.logger, signal });
  } catch (error) {
    if (signal.aborted || error instanceof ClientGoneError) {
      // Nobody is left to answer, and nothing failed on our side.
      res.destroy();
      return;
    }
    sendError(res, error, resolved.logger, where());
  }
}
