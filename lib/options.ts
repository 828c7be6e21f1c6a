// Checks the router's options once, when it is created: a mistake in the host app's wiring
// fails at start-up with a TypeError naming the option, never on the first request.

import type { Knex } from "knex";
import { consoleLogger, type Logger } from "./logger";
import { describeClient, detectDialect, isKnexInstance, type Dialect } from "./dialect";
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
}

const ROOMS_ESTIMATORS: readonly RoomsEstimator[] = ["planner", "sample"];

/** PostgreSQL's statement_timeout is a 32-bit count of milliseconds. */
export const MAX_STATEMENT_TIMEOUT_MS = 2_147_483_647;

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
  const { knex, authCheck, stateKnex, cors, logger, roomsEstimator, sampleStatementTimeoutMs } =
    options;
  const { storageEndpoints } = options;

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
  };
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
