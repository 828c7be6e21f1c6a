// createStatisticsRouter: checks the options, then mounts each endpoint behind the same
// CORS, admin check and error shaping.

import { Router, type Request, type Response } from "express";
import { methodNotAllowed } from "./errors";
import { authenticateAdmin } from "./http/authenticate";
import { setCorsHeaders } from "./http/cors";
import { rawQueryOf, type RawQuery } from "./http/query-string";
import { sendError, sendJson } from "./http/respond";
import { largestRoomsStatistics } from "./endpoints/rooms";
import { usersMediaStatistics } from "./endpoints/users-media";
import { resolveOptions, type ResolvedOptions } from "./options";
import { isPostgres } from "./dialect";
import { createRoomsStore } from "./storage/rooms-store";
import { createUsersMediaStore } from "./storage/users-media-store";
import type { StatisticsRouterOptions } from "./types";

/** The paths the router serves, relative to where it is mounted (normally `/_synapse/admin`). */
export const STATISTICS_PATHS = {
  usersMedia: "/v1/statistics/users/media",
  largestRooms: "/v1/statistics/database/rooms",
} as const;

type Endpoint = (query: RawQuery) => Promise<unknown>;

/**
 * An express Router serving the Synapse admin statistics endpoints. Mount it at
 * `/_synapse/admin`. Options are checked here, once: a mistake throws a TypeError naming it.
 */
export function createStatisticsRouter(options: StatisticsRouterOptions): Router {
  const resolved = resolveOptions(options);
  const usersMediaStore = createUsersMediaStore(resolved.knex, resolved.dialect);
  const largestRooms = {
    // CockroachDB and the like say `postgresql` too; they are not what the estimate reads.
    postgres: isPostgres(resolved.knex) && isPostgres(resolved.stateKnex),
    store: createRoomsStore(resolved.knex, resolved.stateKnex, {
      sampleStatementTimeoutMs: resolved.sampleStatementTimeoutMs,
    }),
    defaultEstimator: resolved.roomsEstimator,
    logger: resolved.logger,
  };
  const endpoints: Record<string, Endpoint> = {
    [STATISTICS_PATHS.usersMedia]: (query) => usersMediaStatistics(query, usersMediaStore),
    [STATISTICS_PATHS.largestRooms]: (query) => largestRoomsStatistics(query, largestRooms),
  };

  // Synapse's paths are exact: no trailing slash, no other case.
  const router = Router({ caseSensitive: true, strict: true });
  for (const [path, endpoint] of Object.entries(endpoints)) {
    router.all(path, (req, res, next) => {
      if (resolved.cors) setCorsHeaders(res);
      switch (req.method) {
        case "GET":
        case "HEAD":
          // serve() answers every error itself; should even that fail, cut the connection.
          serve(req, res, endpoint, resolved).catch(() => res.destroy());
          return;
        case "OPTIONS":
          // A preflight carries no token; when the host does CORS itself, it answers.
          if (resolved.cors) sendJson(res, 200, {});
          else next();
          return;
        default:
          res.setHeader("Allow", resolved.cors ? "GET, HEAD, OPTIONS" : "GET, HEAD");
          sendError(res, methodNotAllowed(), resolved.logger, {
            method: req.method,
            path: req.path,
            secrets: [],
          });
      }
    });
  }
  return router;
}

/** Runs one request: admin check first, then the endpoint; never lets an error escape. */
async function serve(
  req: Request,
  res: Response,
  endpoint: Endpoint,
  resolved: ResolvedOptions,
): Promise<void> {
  const secrets: string[] = [];
  try {
    const query = rawQueryOf(req);
    await authenticateAdmin(req, query, resolved.authCheck, (token) => secrets.push(token));
    sendJson(res, 200, await endpoint(query));
  } catch (error) {
    sendError(res, error, resolved.logger, { method: req.method, path: req.path, secrets });
  }
}
