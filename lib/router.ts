// createStatisticsRouter: checks the options, then mounts each endpoint behind the same
// CORS, admin check and error shaping.

import { Router, type Request, type Response } from "express";
import { EXTENSION_ENDPOINTS, SYNAPSE_ENDPOINTS, type EndpointHandler } from "./endpoints";
import { largestMediaEndpoint } from "./endpoints/largest-media";
import { remoteOriginsEndpoint } from "./endpoints/remote-origins";
import { storageOverviewEndpoint } from "./endpoints/storage-overview";
import { largestRoomsEndpoint } from "./endpoints/rooms";
import { usersMediaEndpoint } from "./endpoints/users-media";
import { methodNotAllowed } from "./errors";
import { retryTransient } from "./execution/transient";
import { authenticateAdmin } from "./http/authenticate";
import { setCorsHeaders } from "./http/cors";
import { refuseMisspeltPrefix } from "./http/mount-path";
import { rawQueryOf } from "./http/query-string";
import { requestLogContext } from "./http/request-context";
import { sendError, sendJson } from "./http/respond";
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
 * storage endpoints unless `storageEndpoints` is false. Mount it at `/_synapse/admin`. Options are checked here, once: a mistake throws a TypeError naming it.
 */
export function createStatisticsRouter(options: StatisticsRouterOptions): Router {
  const resolved = resolveOptions(options);

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
          serve(req, res, handler, resolved).catch(() => res.destroy());
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

/** Runs one request: admin check first, then the endpoint; never lets an error escape. */
async function serve(
  req: Request,
  res: Response,
  handler: EndpointHandler,
  resolved: ResolvedOptions,
): Promise<void> {
  const secrets: string[] = [];
  // The client may leave before its answer is ready: whatever still runs for it can stop.
  const abandoned = new AbortController();
  const onClose = (): void => {
    if (!res.writableFinished) abandoned.abort();
  };
  res.once("close", onClose);
  try {
    const query = rawQueryOf(req);
    await authenticateAdmin(req, query, resolved.authCheck, (token) => secrets.push(token));
    const logContext = () => requestLogContext(req);
    // A standby's recovery conflict or a dropped connection: the read is run again.
    const body = await retryTransient(
      () => handler(query, { signal: abandoned.signal, logContext }),
      { logger: resolved.logger, signal: abandoned.signal },
    );
    sendJson(res, 200, body);
  } catch (error) {
    sendError(res, error, resolved.logger, { ...requestLogContext(req), secrets });
  }
}
