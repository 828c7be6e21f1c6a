// GET /io.github.synapse-admin-statistics/v1/storage/overview: where the disk goes, in one call.

import { detectDialect } from "../dialect";
import { storageOverviewResponseSchema } from "../storage-responses";
import { readStorageOverview, type DatabaseHandle } from "../storage/storage-overview";
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
    const main: DatabaseHandle = { db: options.knex, dialect: options.dialect };
    // The state database counts apart only when it is one.
    const stateDialect = detectDialect(options.stateKnex);
    const state: DatabaseHandle | undefined =
      options.stateKnex !== options.knex && stateDialect !== undefined
        ? { db: options.stateKnex, dialect: stateDialect }
        : undefined;
    return (_query, context): Promise<StorageOverview> =>
      readStorageOverview(main, { ...(state ? { state } : {}), signal: context.signal });
  },
};
