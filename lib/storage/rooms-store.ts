// The largest-rooms storage for a main and a state database: picks the estimator per request.

import type { Knex } from "knex";
import type { RoomsEstimator } from "../types";
import { roomDatabases } from "./rooms-catalogue";
import { estimateByPlanner } from "./rooms-planner";
import { estimateBySample } from "./rooms-sample";
import type { RoomsEstimate } from "./rooms-tables";

export interface RoomsStore {
  /** The estimate over `main` and `state` (the same knex when the state is not split off). */
  largest(estimator: RoomsEstimator, main: Knex, state: Knex): Promise<RoomsEstimate>;
}

export interface RoomsStoreSettings {
  /** Bounds each statement of the sample estimate. */
  sampleStatementTimeoutMs: number;
}

/**
 * Both databases must be PostgreSQL; the endpoint checks that before it asks. Each call reads
 * the knex instances (or the request's transactions on them) it is given.
 */
export function createRoomsStore(settings: RoomsStoreSettings): RoomsStore {
  return {
    largest(estimator, main, state) {
      const databases = roomDatabases(main, state);
      return estimator === "sample"
        ? estimateBySample(databases, { statementTimeoutMs: settings.sampleStatementTimeoutMs })
        : estimateByPlanner(databases);
    },
  };
}
