// Checks the router's options once, when it is created: a mistake in the host app's wiring
// fails at start-up with a TypeError naming the option, never on the first request.

import type { Knex } from "knex";
import { consoleLogger, type Logger } from "./logger";
import { describeClient, detectDialect, isKnexInstance, type Dialect } from "./dialect";
import { DEFAULT_QUEUE_TIMEOUT_MS } from "./execution/limits";
import type { AuthCheck, RoomsEstimator, StatisticsRouterOptions } from "./types";

/** How long the sample estimate of the largest rooms may run, unless told otherwise. */
export const DEFAULT_SAMPLE_STATEMENT_TIMEOUT_MS = 10_000;

/** The options with every default filled in and every value checked. */
export interface ResolvedOptions {
  knex: Knex;
  dialect: Dialect;
  authCheck: AuthCheck;
  stateKnex: Knex;
  cors: boolean;
  logger: Logger;
  roomsEstimator: RoomsEstimator;
  sampleStatementTimeoutMs: number;
  storageEndpoints: boolean;
  /** Undefined: sized to each database's pool. */
  maxConcurrentQueries: number | undefined;
  /** Undefined: twice maxConcurrentQueries, at least 4. */
  maxQueuedQueries: number | undefined;
  queueTimeoutMs: number;
}

const ROOMS_ESTIMATORS: readonly RoomsEstimator[] = ["planner", "sample"];

/** PostgreSQL's statement_timeout is a 32-bit count of milliseconds. */
export const MAX_STATEMENT_TIMEOUT_MS = 2_147_483_647;
// Node's timers take at most this many milliseconds (2^31 - 1).
const MAX_TIMER_MS = 2_147_483_647;

// The compiler fails here when an option is added to the public type and not to this list.
const knownOptions: Record<keyof Required<StatisticsRouterOptions>, true> = {
  knex: true,
  authCheck: true,
  stateKnex: true,
  cors: true,
  logger: true,
  roomsEstimator: true,
  sampleStatementTimeoutMs: true,
  storageEndpoints: true,
  maxConcurrentQueries: true,
  maxQueuedQueries: true,
  queueTimeoutMs: true,
};

export function resolveOptions(options: StatisticsRouterOptions): ResolvedOptions {
  if (typeof options !== "object" || options === null) {
    throw new TypeError("createStatisticsRouter: options must be an object");
  }
  for (const key of Object.keys(options)) {
    if (!Object.hasOwn(knownOptions, key)) {
      throw new TypeError(`createStatisticsRouter: unknown option "${key}"`);
    }
  }
  const {
    knex,
    authCheck,
    stateKnex,
    cors,
    logger,
    roomsEstimator,
    sampleStatementTimeoutMs,
    maxConcurrentQueries,
    maxQueuedQueries,
    queueTimeoutMs,
    storageEndpoints,
  } = options;

  if (knex === undefined) throw new TypeError('createStatisticsRouter: option "knex" is required');
  requireKnex("knex", knex);
  const dialect = detectDialect(knex);
  if (dialect === undefined) {
    throw new TypeError(
      `createStatisticsRouter: option "knex" must use PostgreSQL (pg) or SQLite (sqlite3), not ${describeClient(knex)}`,
    );
  }
  if (authCheck === undefined) {
    throw new TypeError('createStatisticsRouter: option "authCheck" is required');
  }
  if (typeof authCheck !== "function") {
    throw new TypeError('createStatisticsRouter: option "authCheck" must be a function');
  }
  if (stateKnex !== undefined) requireKnex("stateKnex", stateKnex);
  if (cors !== undefined && typeof cors !== "boolean") {
    throw new TypeError('createStatisticsRouter: option "cors" must be a boolean');
  }
  if (storageEndpoints !== undefined && typeof storageEndpoints !== "boolean") {
    throw new TypeError('createStatisticsRouter: option "storageEndpoints" must be a boolean');
  }
  if (logger !== undefined && !isLogger(logger)) {
    throw new TypeError(
      'createStatisticsRouter: option "logger" must have error, warn and info methods',
    );
  }
  if (roomsEstimator !== undefined && !ROOMS_ESTIMATORS.includes(roomsEstimator)) {
    throw new TypeError(
      'createStatisticsRouter: option "roomsEstimator" must be "planner" or "sample"',
    );
  }
  if (
    sampleStatementTimeoutMs !== undefined &&
    !(
      Number.isInteger(sampleStatementTimeoutMs) &&
      sampleStatementTimeoutMs > 0 &&
      sampleStatementTimeoutMs <= MAX_STATEMENT_TIMEOUT_MS
    )
  ) {
    throw new TypeError(
      `createStatisticsRouter: option "sampleStatementTimeoutMs" must be a positive integer of milliseconds, at most ${MAX_STATEMENT_TIMEOUT_MS}`,
    );
  }
  requireCount("maxConcurrentQueries", maxConcurrentQueries, 1);
  requireCount("maxQueuedQueries", maxQueuedQueries, 0);
  if (
    queueTimeoutMs !== undefined &&
    !(Number.isInteger(queueTimeoutMs) && queueTimeoutMs > 0 && queueTimeoutMs <= MAX_TIMER_MS)
  ) {
    throw new TypeError(
      `createStatisticsRouter: option "queueTimeoutMs" must be a positive integer of milliseconds, at most ${MAX_TIMER_MS}`,
    );
  }
  return {
    knex,
    dialect,
    authCheck,
    stateKnex: stateKnex ?? knex,
    cors: cors ?? true,
    logger: logger ?? consoleLogger,
    roomsEstimator: roomsEstimator ?? "planner",
    sampleStatementTimeoutMs: sampleStatementTimeoutMs ?? DEFAULT_SAMPLE_STATEMENT_TIMEOUT_MS,
    storageEndpoints: storageEndpoints ?? true,
    maxConcurrentQueries,
    maxQueuedQueries,
    queueTimeoutMs: queueTimeoutMs ?? DEFAULT_QUEUE_TIMEOUT_MS,
  };
}

/** A whole number of requests, at least `least`, when given. */
function requireCount(name: string, value: unknown, least: number): void {
  if (value !== undefined && !(Number.isSafeInteger(value) && (value as number) >= least)) {
    throw new TypeError(
      `createStatisticsRouter: option "${name}" must be an integer of at least ${least}`,
    );
  }
}

function requireKnex(name: string, value: unknown): asserts value is Knex {
  if (!isKnexInstance(value)) {
    throw new TypeError(`createStatisticsRouter: option "${name}" must be a knex instance`);
  }
}

export function isLogger(value: unknown): value is Logger {
  const candidate = value as Partial<Record<keyof Logger, unknown>> | null;
  return (
    typeof candidate === "object" &&
    candidate !== null &&
    typeof candidate.error === "function" &&
    typeof candidate.warn === "function" &&
    typeof candidate.info === "function"
  );
}
