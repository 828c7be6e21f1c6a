// `serve`: the statistics router as a standalone HTTP service beside Synapse, on Synapse's own
// database and tokens, with one log line per request and a graceful stop on SIGINT/SIGTERM.

import type { Server } from "node:http";
import express from "express";
import type { Knex } from "knex";
import type { Logger as PinoLogger } from "pino";
import { Errcode } from "../errors";
import { setCorsHeaders } from "../http/cors";
import { sendJson } from "../http/respond";
import { buildOpenApiDocument } from "../openapi";
import { DEFAULT_QUEUE_TIMEOUT_MS } from "../execution/limits";
import { DEFAULT_SAMPLE_STATEMENT_TIMEOUT_MS } from "../options";
import { readRecoveryState } from "../storage/recovery";
import { createStatisticsRouter } from "../router";
import { readStorageFigures } from "../storage/storage-figures";
import { synapseAccessTokenAuth } from "../synapse-access-token-auth";
import { synapseDelegatedAuth } from "../synapse-delegated-auth";
import { EXTENSION_ENDPOINTS, SYNAPSE_ENDPOINTS } from "../endpoints";
import {
  checkSynapseDatabase,
  explainConnectionError,
  openDatabase,
  type DatabaseTarget,
} from "./database";
import { answerClientError } from "./client-error";
import { CliError, usageError } from "./errors";
import { HEALTH_PATH, healthRoutes, READY_PATH } from "./health";
import type { ListenAddress } from "./listen";
import { createServiceMetrics, DEFAULT_METRICS_INTERVAL_MS, type ServiceMetrics } from "./metrics";
import { checkSynapseAnswers } from "./synapse-url";
import { requestLogger } from "./request-log";

export const MOUNT_PATH = "/_synapse/admin";
export const OPENAPI_PATH = `${MOUNT_PATH}/v1/statistics/openapi.json`;

export interface ServeOptions {
  database: DatabaseTarget;
  stateDatabase?: DatabaseTarget;
  listen: ListenAddress;
  statementTimeoutMs: number;
  cors: boolean;
  logger: PinoLogger;
  version: string;
  /** Called once the server listens, with its base URL. */
  onListening?: (baseUrl: string) => void;
  /** Resolves when the service should stop; default: the first SIGINT or SIGTERM. */
  stopSignal?: Promise<string>;
  /** How long in-flight requests may take to finish once stopping. Default 10 s. */
  drainTimeoutMs?: number;
  /** Where to serve Prometheus metrics (`/metrics`); no metrics listener when absent. */
  metricsListen?: ListenAddress;
  /** How often the storage gauges are read, in ms. Default 5 minutes. */
  metricsIntervalMs?: number;
  /** Check tokens by asking Synapse at this URL instead of reading its access_tokens table. */
  synapseUrl?: string;
  /** How long a token Synapse admitted is trusted without asking again, in ms (the revocation delay). */
  synapseCacheTtlMs?: number;
  /** Connections of the statistics pool of each PostgreSQL database. Default 10. */
  poolSize?: number;
  /** The router's admission limits; its defaults when absent. */
  maxConcurrentQueries?: number;
  maxQueuedQueries?: number;
  queueTimeoutMs?: number;
}

/** Runs the service until it is told to stop; resolves once everything is closed. */
export async function serve(options: ServeOptions): Promise<void> {
  const { logger } = options;
  // Listened for from the start: a signal during start-up stops the service as soon as it is up.
  const stop = options.stopSignal ?? firstSignal();
  const pools: Knex[] = [];
  let stopMetrics = async (): Promise<void> => undefined;
  try {
    const main = await openDatabase(options.database, {
      statementTimeoutMs: options.statementTimeoutMs,
      readOnly: true,
      logger,
      ...(options.poolSize === undefined ? {} : { poolMax: options.poolSize }),
    });
    pools.push(main);
    await checkSynapseDatabase(main, options.database);
    if (options.database.kind === "postgres") await logRecoveryState(main, options);
    // Token lookups get connections of their own (on SQLite a second one), so that a 401 is
    // never stuck behind statistics queries.
    const tokens = await openDatabase(options.database, {
      statementTimeoutMs: options.statementTimeoutMs,
      readOnly: true,
      logger,
      poolMax: TOKEN_POOL_SIZE,
    });
    pools.push(tokens);
    let state: Knex | undefined;
    if (options.stateDatabase) {
      state = await openDatabase(options.stateDatabase, {
        statementTimeoutMs: options.statementTimeoutMs,
        readOnly: true,
        logger,
        ...(options.poolSize === undefined ? {} : { poolMax: options.poolSize }),
      });
      pools.push(state);
      try {
        await state.raw("SELECT 1");
      } catch (error) {
        throw new CliError(explainConnectionError(error, options.stateDatabase));
      }
    }

    const metrics = options.metricsListen
      ? createServiceMetrics({
          routes: serviceRoutes(),
          storage: () =>
            readStorageFigures(
              { db: main, dialect: options.database.kind },
              state && options.stateDatabase
                ? { db: state, dialect: options.stateDatabase.kind }
                : undefined,
            ),
          intervalMs: options.metricsIntervalMs ?? DEFAULT_METRICS_INTERVAL_MS,
          logger,
          version: options.version,
        })
      : undefined;
    if (metrics && options.metricsListen) {
      const metricsServer = await listen(metrics.app, options.metricsListen, false);
      stopMetrics = async () => {
        await metrics.stop();
        await new Promise<void>((resolve) => {
          metricsServer.close(() => resolve());
          metricsServer.closeAllConnections();
        });
      };
      logger.info({ listen: urlOf(metricsServer, options.metricsListen) }, "metrics listening");
      metrics.startRefreshing();
    }
    if (options.synapseUrl) await checkSynapseAnswers(options.synapseUrl, logger);

    const app = createApp(main, state, tokens, options, metrics);
    const server = await listen(app, options.listen, options.cors);
    // A connection on which no byte moves for this long is closed: a client that stopped
    // reading its answer would otherwise hold it, and its database slot, for ever.
    server.timeout = socketIdleTimeoutMs(
      options.statementTimeoutMs,
      options.queueTimeoutMs ?? DEFAULT_QUEUE_TIMEOUT_MS,
    );
    const baseUrl = urlOf(server, options.listen);
    logger.info(
      { listen: baseUrl, database: options.database.display, version: options.version },
      "listening",
    );
    options.onListening?.(baseUrl);

    const signal = await stop;
    logger.info({ signal }, "stopping: no new connections, finishing requests in flight");
    await drain(server, app, pools, options.drainTimeoutMs ?? 10_000);
  } finally {
    await stopMetrics();
    await Promise.all(pools.map((pool) => pool.destroy()));
  }
  logger.info({}, "stopped");
}

/** Connections of the token lookups' own pool (PostgreSQL; SQLite opens one). */
const TOKEN_POOL_SIZE = 2;

/**
 * How long a connection may stay silent, neither side sending a byte: longer than a request
 * may legitimately work before its first byte (a full queue wait, then up to three statements
 * each bounded by the statement timeout) plus 10 s; ten minutes when statements have no
 * timeout. A client that stopped reading its answer is silent, and is cut off after it.
 */
export function socketIdleTimeoutMs(statementTimeoutMs: number, queueTimeoutMs: number): number {
  if (statementTimeoutMs === 0) return Math.max(600_000, queueTimeoutMs + 10_000);
  return queueTimeoutMs + 3 * statementTimeoutMs + 10_000;
}

function createApp(
  main: Knex,
  state: Knex | undefined,
  tokens: Knex,
  options: ServeOptions,
  metrics: ServiceMetrics | undefined,
): express.Express {
  const app = express();
  app.disable("x-powered-by");
  // Synapse's paths are exact: `/_SYNAPSE/ADMIN/...` and a trailing slash are 404s.
  app.set("case sensitive routing", true);
  app.set("strict routing", true);
  app.locals.stopping = false;
  if (metrics) app.use(metrics.countRequests);
  // Before the request log: probes come every few seconds and log at debug level themselves.
  app.use(
    healthRoutes({
      databases: state ? [main, state] : [main],
      logger: options.logger,
      stopping: () => app.locals.stopping === true,
    }),
  );
  app.use(requestLogger(options.logger));
  app.use((req, res, next) => {
    // Once stopping, keep-alive connections close after their response: those that started
    // before the stop too, which would otherwise idle until their keep-alive timeout.
    if (app.locals.stopping) res.setHeader("Connection", "close");
    res.once("finish", () => {
      if (app.locals.stopping) req.socket.end();
    });
    next();
  });
  const openApi = buildOpenApiDocument({ mountPath: MOUNT_PATH, version: options.version });
  app.get(OPENAPI_PATH, (_req, res) => {
    if (options.cors) setCorsHeaders(res);
    sendJson(res, 200, openApi);
  });
  app.use(
    MOUNT_PATH,
    createStatisticsRouter({
      knex: main,
      ...(state ? { stateKnex: state } : {}),
      authCheck: options.synapseUrl
        ? synapseDelegatedAuth({
            baseUrl: options.synapseUrl,
            logger: options.logger,
            ...(options.synapseCacheTtlMs === undefined
              ? {}
              : { cacheTtlMs: options.synapseCacheTtlMs }),
          })
        : synapseAccessTokenAuth(tokens, { logger: options.logger }),
      cors: options.cors,
      logger: options.logger,
      ...(options.maxConcurrentQueries === undefined
        ? {}
        : { maxConcurrentQueries: options.maxConcurrentQueries }),
      ...(options.maxQueuedQueries === undefined
        ? {}
        : { maxQueuedQueries: options.maxQueuedQueries }),
      ...(options.queueTimeoutMs === undefined ? {} : { queueTimeoutMs: options.queueTimeoutMs }),
      // The sample estimate sets its own statement timeout; it must not outlast the service's.
      ...(options.statementTimeoutMs > 0
        ? {
            sampleStatementTimeoutMs: Math.min(
              options.statementTimeoutMs,
              DEFAULT_SAMPLE_STATEMENT_TIMEOUT_MS,
            ),
          }
        : {}),
    }),
  );
  // A preflight anywhere is answered, as Synapse answers it: with --no-cors the headers are a
  // reverse proxy's to add, and it needs a 2xx from here to add them to.
  app.use((req, res, next) => {
    if (req.method !== "OPTIONS") return next();
    if (options.cors) setCorsHeaders(res);
    sendJson(res, 200, {});
  });
  // What Synapse answers for a path it does not serve.
  app.use((_req, res) => {
    if (options.cors) setCorsHeaders(res);
    sendJson(res, 404, { errcode: Errcode.UNRECOGNIZED, error: "Unrecognized request" });
  });
  return app;
}

/** Says whether the database is a hot standby, and warns when its settings invite conflicts. */
async function logRecoveryState(db: Knex, options: ServeOptions): Promise<void> {
  let state;
  try {
    state = await readRecoveryState(db);
  } catch (error) {
    throw new CliError(explainConnectionError(error, options.database));
  }
  if (!state.standby) {
    options.logger.info({ standby: false }, "the database is not in recovery (a primary)");
  } else if (state.settings?.hot_standby_feedback === "off") {
    options.logger.warn(
      { standby: true, ...state.settings },
      "the database is a hot standby with hot_standby_feedback off: under writes on the primary " +
        "it cancels reads (retried, else answered 503); turn hot_standby_feedback on, on the standby",
    );
  } else {
    options.logger.info(
      { standby: true, ...state.settings },
      "the database is a hot standby: answers are as fresh as its replay of the primary",
    );
  }
}

/** Every path the service answers, as the metrics' `endpoint` label names them. */
function serviceRoutes(): string[] {
  return [
    ...[...SYNAPSE_ENDPOINTS, ...EXTENSION_ENDPOINTS].map(
      (endpoint) => `${MOUNT_PATH}${endpoint.contract.path}`,
    ),
    OPENAPI_PATH,
    HEALTH_PATH,
    READY_PATH,
  ];
}

/** The base URL a listening server is reached at. */
function urlOf(server: Server, listenAddress: ListenAddress): string {
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : listenAddress.port;
  const host = listenAddress.host.includes(":") ? `[${listenAddress.host}]` : listenAddress.host;
  return `http://${host}:${port}`;
}

function listen(app: express.Express, address: ListenAddress, cors: boolean): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = app.listen(address.port, address.host);
    server.on("clientError", answerClientError(cors));
    server.once("listening", () => resolve(server));
    server.once("error", (error: NodeJS.ErrnoException) => {
      const where = `${address.host}:${address.port}`;
      if (error.code === "EADDRINUSE")
        reject(new CliError(`cannot listen on ${where}: address already in use`));
      else if (error.code === "EACCES")
        reject(new CliError(`cannot listen on ${where}: permission denied`));
      // An address this machine does not have, or a name that is none: the --listen is wrong.
      else if (error.code === "EADDRNOTAVAIL")
        reject(usageError(`cannot listen on ${where}: no such local address`));
      else if (error.code === "ENOTFOUND" || error.code === "EAI_AGAIN")
        reject(usageError(`cannot listen on ${where}: unknown host`));
      else reject(new CliError(`cannot listen on ${where}: ${error.message}`));
    });
  });
}

function firstSignal(): Promise<string> {
  return new Promise((resolve) => {
    const onSignal = (signal: string) => {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
      resolve(signal);
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
  });
}

/**
 * Stops accepting, lets requests in flight finish (up to `timeoutMs`), then closes the rest.
 * A request whose client has gone still has its queries running or queued: the pools are
 * waited on too, so that closing them does not fail work that would have completed.
 */
async function drain(
  server: Server,
  app: express.Express,
  pools: readonly Knex[],
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  app.locals.stopping = true;
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, timeoutMs);
  });
  await Promise.race([closed, expired]);
  while (Date.now() < deadline && pools.some(isBusy)) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  server.closeAllConnections();
  clearTimeout(timer);
}

interface PoolState {
  numUsed(): number;
  numPendingAcquires(): number;
  numPendingCreates(): number;
}

/** Whether a knex pool has queries running or waiting for a connection. */
function isBusy(db: Knex): boolean {
  const pool = (db.client as { pool?: PoolState | null }).pool;
  return pool != null && pool.numUsed() + pool.numPendingAcquires() + pool.numPendingCreates() > 0;
}
