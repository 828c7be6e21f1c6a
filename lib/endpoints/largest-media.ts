// GET /io.github.synapse-admin-statistics/v1/storage/media/largest: the largest local (or
// remote) media, with the IDs Synapse's delete and quarantine admin APIs take.

import { largestMediaQuerySchema, parseLargestMediaQuery } from "../params/largest-media";
import { largestMediaResponseSchema } from "../storage-responses";
import { readLargestMedia } from "../storage/largest-media";
import type { LargestMediaResponse } from "../storage-types";
import type { Endpoint } from "./endpoint";
import { EXTENSION_PREFIX } from "./namespace";
import { withNextToken } from "./paging";

export const largestMediaEndpoint: Endpoint = {
  contract: {
    path: `${EXTENSION_PREFIX}/storage/media/largest`,
    operationId: "getLargestMedia",
    summary: "The largest local or remote media, with the IDs Synapse's media admin APIs take",
    querySchema: largestMediaQuerySchema,
    response: {
      name: "LargestMediaResponse",
      schema: largestMediaResponseSchema,
      description: "One page of media, largest first, and the total over all pages",
    },
    badRequest:
      "M_INVALID_PARAM: a parameter breaks its rule, or filters the other source (user_id with source=remote, origin without it)",
  },
  createHandler(options) {
    return async (query, { scope }): Promise<LargestMediaResponse> => {
      const params = parseLargestMediaQuery(query);
      const page = await readLargestMedia(await scope.transaction(options.knex), options.dialect, {
        source: params.source,
        from: params.from,
        limit: params.limit,
        userId: params.user_id,
        origin: params.origin,
        fromTs: params.from_ts,
        untilTs: params.until_ts,
      });
      return withNextToken({ media: page.media, total: page.total }, params, page.media);
    };
  },
};
