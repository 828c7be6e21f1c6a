// The largest-rooms storage for a main and a state database: picks the estimator per request.

import type { Knex } from "knex";
import type { RoomsEstimator } from "../types";
import { roomDatabases } from "./rooms-catalogue";
import { estimateByPlanner } from "./rooms-planner";
import { estimateBySample } from "./rooms-sample";
import type { RoomsEstimate } from "./rooms-tables";

export interface RoomsStore {
  largest(estimator: RoomsEstimator): Promise<RoomsEstimate>;
}

export interface RoomsStoreSettings {
  /** Bounds each statement of the sample estimate. */
  sampleStatementTimeoutMs: number;
}

/** Both databases must be PostgreSQL; the endpoint checks that before it asks. */
export function createRoomsStore(
  main: Knex,
  state: Knex,
  settings: RoomsStoreSettings,
): RoomsStore {
  const databases = roomDatabases(main, state);
  return {
    largest(estimator) {
      return estimator === "sample"
        ? estimateBySample(databases, { statementTimeoutMs: settings.sampleStatementTimeoutMs })
        : estimateByPlanner(databases);
    },
  };
}
