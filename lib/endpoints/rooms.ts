// GET /v1/statistics/database/rooms: PostgreSQL check, parameters, estimate, warnings, body.

import type { Knex } from "knex";
import { InternalFailure, requiresPostgres } from "../errors";
import type { RequestScope } from "../execution/scope";
import type { RawQuery } from "../http/query-string";
import type { RequestLogContext } from "../http/request-context";
import type { Logger } from "../logger";
import { isPostgres } from "../dialect";
import { parseRoomsQuery, roomsQuerySchema } from "../params/rooms";
import { largestRoomsResponseSchema } from "../responses";
import { SampleTimeoutError } from "../storage/rooms-sample";
import { createRoomsStore, type RoomsStore } from "../storage/rooms-store";
import type { HiddenTable } from "../storage/rooms-tables";
import type { LargestRoomsResponse, RoomsEstimator } from "../types";
import type { Endpoint } from "./endpoint";

export const largestRoomsEndpoint: Endpoint = {
  contract: {
    path: "/v1/statistics/database/rooms",
    operationId: "getLargestRooms",
    summary: "The 10 rooms estimated to take the most database space (PostgreSQL only)",
    querySchema: roomsQuerySchema,
    response: {
      name: "LargestRoomsResponse",
      schema: largestRoomsResponseSchema,
      description: "At most 10 rooms, largest first",
    },
    badRequest:
      'M_UNKNOWN "Endpoint requires using PostgreSQL" on SQLite, or M_INVALID_PARAM for a bad estimator',
  },
  createHandler(options) {
    const context: LargestRoomsContext = {
      // CockroachDB and the like say `postgresql` too; they are not what the estimate reads.
      postgres: isPostgres(options.knex) && isPostgres(options.stateKnex),
      main: options.knex,
      state: options.stateKnex,
      store: createRoomsStore({ sampleStatementTimeoutMs: options.sampleStatementTimeoutMs }),
      defaultEstimator: options.roomsEstimator,
      logger: options.logger,
    };
    return (query, { logContext, scope }) =>
      largestRoomsStatistics(query, context, logContext, scope);
  },
};

interface LargestRoomsContext {
  /** Whether the main and the state database are both real PostgreSQL. */
  postgres: boolean;
  main: Knex;
  state: Knex;
  store: RoomsStore;
  /** The router's `roomsEstimator`, used when the request names none. */
  defaultEstimator: RoomsEstimator;
  logger: Logger;
}

async function largestRoomsStatistics(
  query: RawQuery,
  context: LargestRoomsContext,
  logContext: () => RequestLogContext,
  scope: RequestScope,
): Promise<LargestRoomsResponse> {
  // Synapse refuses before reading anything: the estimate is made of PostgreSQL internals.
  if (!context.postgres) throw requiresPostgres();
  const params = parseRoomsQuery(query);
  const estimator = params.estimator ?? context.defaultEstimator;
  // The state database is read first (its totals are carried into the main one's).
  const state = await scope.transaction(context.state);
  const main = await scope.transaction(context.main);
  const estimate = await context.store.largest(estimator, main, state).catch((error: unknown) => {
    throw error instanceof SampleTimeoutError
      ? new InternalFailure(
          "the sample estimate of the largest rooms took longer than sampleStatementTimeoutMs allows",
          { option: "sampleStatementTimeoutMs", timeoutMs: error.timeoutMs },
        )
      : error;
  });
  for (const hidden of estimate.hiddenTables) {
    try {
      context.logger.warn(
        { ...logContext(), ...hiddenTableDetails(hidden, estimator) },
        hiddenTableMessage(hidden, estimator),
      );
    } catch {
      // A warning the host's logger cannot take is no reason to fail the answer.
    }
  }
  return { rooms: estimate.rooms };
}

// Without these warnings a sidecar role lacking SELECT gets a plausible, silently short list.
export function hiddenTableMessage(hidden: HiddenTable, estimator: RoomsEstimator): string {
  const table = `${hidden.schema}.${hidden.table}`;
  const what = estimator === "planner" ? "its planner statistics" : "its rows";
  return hidden.reason === "privilege"
    ? `largest rooms leave out table ${table}: role ${hidden.role} lacks the SELECT privilege on it, so PostgreSQL hides ${what}; grant SELECT on ${table} to ${hidden.role}`
    : `largest rooms leave out table ${table}: row-level security hides ${what} from role ${hidden.role}`;
}

function hiddenTableDetails(
  hidden: HiddenTable,
  estimator: RoomsEstimator,
): Record<string, unknown> {
  return {
    table: hidden.table,
    schema: hidden.schema,
    role: hidden.role,
    reason: hidden.reason,
    ...(hidden.reason === "privilege" ? { missingPrivilege: "SELECT" } : {}),
    estimator,
  };
}
