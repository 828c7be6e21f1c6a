// GET /io.github.synapse-admin-statistics/v1/storage/remote_media/origins: the remote media
// cache per origin server, paged like users/media.

import { parseRemoteOriginsQuery, remoteOriginsQuerySchema } from "../params/remote-origins";
import { remoteOriginsResponseSchema } from "../storage-responses";
import { readRemoteOrigins, type RemoteOriginsFilter } from "../storage/remote-origins";
import { summaryRemoteOrigins } from "../storage/storage-summary";
import { createStorageSummarySource } from "../storage/storage-summary-store";
import type { RemoteOriginsResponse } from "../storage-types";
import type { Endpoint } from "./endpoint";
import { EXTENSION_PREFIX } from "./namespace";
import { withNextToken } from "./paging";

export const remoteOriginsEndpoint: Endpoint = {
  contract: {
    path: `${EXTENSION_PREFIX}/storage/remote_media/origins`,
    operationId: "getRemoteMediaOrigins",
    summary:
      "The remote media cache per origin server: count, bytes, thumbnails, first and last fetch",
    querySchema: remoteOriginsQuerySchema,
    response: {
      name: "RemoteOriginsResponse",
      schema: remoteOriginsResponseSchema,
      description: "One page of origins, and the total over all pages",
    },
    badRequest: "M_INVALID_PARAM: a parameter breaks its rule",
  },
  createHandler(options) {
    // Every order and search reads the opt-in summary when it is installed: the same answer.
    const summary = createStorageSummarySource();
    return async (query, { scope }): Promise<RemoteOriginsResponse> => {
      const params = parseRemoteOriginsQuery(query);
      const filter: RemoteOriginsFilter = {
        from: params.from,
        limit: params.limit,
        orderBy: params.order_by,
        direction: params.dir,
        searchTerm: params.search_term,
      };
      const db = await scope.transaction(options.knex);
      const page = await summary.read(
        db,
        () => summaryRemoteOrigins(db, options.dialect, filter),
        () => readRemoteOrigins(db, options.dialect, filter),
      );
      return withNextToken({ origins: page.origins, total: page.total }, params, page.origins);
    };
  },
};
