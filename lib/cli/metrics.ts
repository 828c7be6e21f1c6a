// Prometheus metrics of the `serve` sidecar, on a listener of their own (as Synapse keeps its
// metrics apart): requests by route template, method and status; the process; and the storage
// gauges, read in the background at most once per interval and served from memory, so that a
// scrape never runs a query. Only the CLI loads this module, and with it prom-client.

import express from "express";
import type { NextFunction, Request, Response } from "express";
import type { Logger as PinoLogger } from "pino";
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import { describeError } from "../logger";
import type { StorageFigures, StorageFiguresProvider } from "../storage/storage-figures";

/** Every metric of this package starts with this. */
export const METRIC_PREFIX = "synapse_admin_statistics_";
export const METRICS_PATH = "/metrics";
/** The storage gauges' refresh interval unless `--metrics-interval` says otherwise. */
export const DEFAULT_METRICS_INTERVAL_MS = 5 * 60_000;

/** The `endpoint` label of a request whose path is none of the service's routes. */
export const OTHER_ENDPOINT = "other";
const METHODS = new Set(["GET", "HEAD", "OPTIONS"]);
// Up to the default statement timeout (30 s): the slowest answers are the ones to see.
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export interface ServiceMetricsOptions {
  /** The paths the service serves, as route templates (`:name` matches one segment). */
  routes: readonly string[];
  /** Reads the storage figures; called at most once per `intervalMs`. */
  storage: StorageFiguresProvider;
  intervalMs: number;
  logger: PinoLogger;
  version: string;
}

export interface ServiceMetrics {
  /** Counts and times every request of the service's listener. Mount it first. */
  countRequests(req: Request, res: Response, next: NextFunction): void;
  /** The `/metrics` app for the metrics listener. */
  app: express.Express;
  /** Reads the storage figures now, then again every interval. */
  startRefreshing(): void;
  /** Stops refreshing; resolves once a refresh under way has finished. */
  stop(): Promise<void>;
}

export function createServiceMetrics(options: ServiceMetricsOptions): ServiceMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const requestLabels = ["endpoint", "method", "status"] as const;
  const requests = new Counter({
    name: `${METRIC_PREFIX}requests_total`,
    help: "Requests answered, by route template, method and status ('aborted': the client left first).",
    labelNames: requestLabels,
    registers: [registry],
  });
  const durations = new Histogram({
    name: `${METRIC_PREFIX}request_duration_seconds`,
    help: "Time from a request's arrival to the end of its answer, by route template, method and status.",
    labelNames: requestLabels,
    buckets: DURATION_BUCKETS,
    registers: [registry],
  });
  new Gauge({
    name: `${METRIC_PREFIX}build_info`,
    help: "Always 1; the version label says which release runs.",
    labelNames: ["version"],
    registers: [registry],
  }).set({ version: options.version }, 1);
  const storage = storageGauges(registry);
  const endpointOf = routeMatcher(options.routes);

  const countRequests = (req: Request, res: Response, next: NextFunction): void => {
    const started = process.hrtime.bigint();
    res.once("close", () => {
      const labels = {
        endpoint: endpointOf(req.originalUrl),
        method: METHODS.has(req.method) ? req.method : "other",
        status: res.writableFinished ? String(res.statusCode) : "aborted",
      };
      requests.inc(labels);
      durations.observe(labels, Number(process.hrtime.bigint() - started) / 1e9);
    });
    next();
  };

  const app = express();
  app.disable("x-powered-by");
  app.get(METRICS_PATH, (_req, res, next) => {
    registry.metrics().then((text) => {
      res.setHeader("Content-Type", registry.contentType);
      res.end(text);
    }, next);
  });
  app.use((_req, res) => {
    res.status(404).type("text/plain").end(`Not found: metrics are at ${METRICS_PATH}`);
  });

  const refresher = backgroundRefresh(options, storage.update);
  return { countRequests, app, startRefreshing: refresher.start, stop: refresher.stop };
}

/** The storage gauges, and how one set of figures replaces the last. */
function storageGauges(registry: Registry): {
  update: (figures: StorageFigures | undefined, durationSeconds: number) => void;
} {
  const files = new Gauge({
    name: `${METRIC_PREFIX}media_files`,
    help: "Stored media files at the last storage refresh, by store (local, remote) and kind (media, thumbnail); no series for a table the database lacks.",
    labelNames: ["store", "kind"],
    registers: [registry],
  });
  const bytes = new Gauge({
    name: `${METRIC_PREFIX}media_bytes`,
    help: "Bytes of stored media at the last storage refresh, by store (local, remote) and kind (media, thumbnail); a file of unknown length counts 0.",
    labelNames: ["store", "kind"],
    registers: [registry],
  });
  const databaseSize = new Gauge({
    name: `${METRIC_PREFIX}database_size_bytes`,
    help: "Size on disk of Synapse's database (main; state when split off) at the last storage refresh.",
    labelNames: ["database"],
    registers: [registry],
  });
  const tableSize = new Gauge({
    name: `${METRIC_PREFIX}table_size_bytes`,
    help: "The largest tables of each database with their indexes and TOAST, at the last storage refresh (PostgreSQL only).",
    labelNames: ["database", "schema", "table"],
    registers: [registry],
  });
  const refreshed = new Gauge({
    name: `${METRIC_PREFIX}storage_refresh_timestamp_seconds`,
    help: "When the storage gauges were last refreshed successfully (Unix time; 0: not yet).",
    registers: [registry],
  });
  const refreshDuration = new Gauge({
    name: `${METRIC_PREFIX}storage_refresh_duration_seconds`,
    help: "How long the last storage refresh took, successful or not.",
    registers: [registry],
  });
  const failures = new Counter({
    name: `${METRIC_PREFIX}storage_refresh_failures_total`,
    help: "Storage refreshes that failed; the gauges keep the figures of the last one that did not.",
    registers: [registry],
  });

  const update = (figures: StorageFigures | undefined, durationSeconds: number): void => {
    refreshDuration.set(durationSeconds);
    if (figures === undefined) {
      failures.inc();
      return;
    }
    // Reset first: a table that went away, or left the largest ten, leaves no stale series.
    for (const gauge of [files, bytes, databaseSize, tableSize]) gauge.reset();
    const stores = [
      ["local", "media", figures.localMedia],
      ["local", "thumbnail", figures.localThumbnails],
      ["remote", "media", figures.remoteMedia],
      ["remote", "thumbnail", figures.remoteThumbnails],
    ] as const;
    for (const [store, kind, totals] of stores) {
      if (totals === undefined) continue;
      files.set({ store, kind }, totals.count);
      bytes.set({ store, kind }, totals.bytes);
    }
    for (const { database, bytes: size } of figures.databases) databaseSize.set({ database }, size);
    for (const { database, schema, table, bytes: size } of figures.largestTables) {
      tableSize.set({ database, schema, table }, size);
    }
    refreshed.set(Date.now() / 1000);
  };
  return { update };
}

/**
 * Reads the figures now and then every `intervalMs` after the last read ended, so reads never
 * overlap and never come more often than the interval. A failed read is logged (without SQL)
 * and leaves the last figures in place.
 */
function backgroundRefresh(
  options: ServiceMetricsOptions,
  update: (figures: StorageFigures | undefined, durationSeconds: number) => void,
): { start: () => void; stop: () => Promise<void> } {
  const { logger } = options;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let stopped = false;

  const refresh = async (): Promise<void> => {
    const started = process.hrtime.bigint();
    const elapsed = (): number => Number(process.hrtime.bigint() - started) / 1e9;
    try {
      const figures = await options.storage();
      update(figures, elapsed());
      logger.info({ durationMs: Math.round(elapsed() * 1000) }, "storage figures refreshed");
    } catch (error) {
      update(undefined, elapsed());
      if (!stopped) logger.warn(describeError(error), "storage figures refresh failed");
    }
  };
  const cycle = (): void => {
    running = refresh().finally(() => {
      running = undefined;
      if (!stopped) timer = setTimeout(cycle, options.intervalMs).unref();
    });
  };
  return {
    start: cycle,
    stop: async () => {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}

/**
 * The route template a request target belongs to, from a fixed list: a label value for every
 * path, never the path itself (which would let any client mint new series).
 */
export function routeMatcher(routes: readonly string[]): (target: string) => string {
  const exact = new Set(routes.filter((route) => !route.includes("/:")));
  const templated = routes
    .filter((route) => route.includes("/:"))
    .map((route) => ({
      route,
      pattern: new RegExp(
        `^${route
          .split("/")
          .map((segment) =>
            segment.startsWith(":") ? "[^/]+" : segment.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"),
          )
          .join("/")}$`,
      ),
    }));
  return (target) => {
    const question = target.indexOf("?");
    const path = question === -1 ? target : target.slice(0, question);
    if (exact.has(path)) return path;
    return templated.find(({ pattern }) => pattern.test(path))?.route ?? OTHER_ENDPOINT;
  };
}
