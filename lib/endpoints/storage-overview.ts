// GET /io.github.synapse-admin-statistics/v1/storage/overview: where the disk goes, in one call.

import { detectDialect } from "../dialect";
import { storageOverviewResponseSchema } from "../storage-responses";
import {
  readStorageOverview,
  scanMediaFigures,
  type DatabaseHandle,
  type MediaFiguresReader,
} from "../storage/storage-overview";
import { summaryMediaFigures } from "../storage/storage-summary";
import { createStorageSummarySource } from "../storage/storage-summary-store";
import type { StorageOverview } from "../storage-types";
import type { Endpoint } from "./endpoint";
import { EXTENSION_PREFIX } from "./namespace";

// The overview takes no parameters; any given is ignored, as unknown ones are everywhere.
const overviewQuerySchema = { type: "object", properties: {}, required: [] } as const;

export const storageOverviewEndpoint: Endpoint = {
  contract: {
    path: `${EXTENSION_PREFIX}/storage/overview`,
    operationId: "getStorageOverview",
    summary:
      "Where the disk goes: database and largest tables, local and remote media, thumbnails, content types and months",
    querySchema: overviewQuerySchema,
    response: {
      name: "StorageOverview",
      schema: storageOverviewResponseSchema,
      description: "The overview, and for every figure whether it is exact",
    },
    badRequest: "Not answered: the overview takes no parameters",
  },
  createHandler(options) {
    // The state database counts apart only when it is one.
    const stateDialect = detectDialect(options.stateKnex);
    const splitState = options.stateKnex !== options.knex && stateDialect !== undefined;
    // The media figures come from the opt-in summary when it is installed: the same figures.
    const summary = createStorageSummarySource();
    const mediaFigures: MediaFiguresReader = (trx, dialect, breakdown, signal) =>
      summary.read(
        trx,
        () => summaryMediaFigures(trx, dialect, breakdown),
        () => scanMediaFigures(trx, dialect, breakdown, signal),
      );
    return async (_query, { signal, scope }): Promise<StorageOverview> => {
      // Each database read in the request's own transaction on it (one snapshot, cancellable).
      const main: DatabaseHandle = {
        db: await scope.transaction(options.knex),
        dialect: options.dialect,
      };
      const state: DatabaseHandle | undefined =
        splitState && stateDialect !== undefined
          ? { db: await scope.transaction(options.stateKnex), dialect: stateDialect }
          : undefined;
      return readStorageOverview(main, { ...(state ? { state } : {}), signal, mediaFigures });
    };
  },
};
