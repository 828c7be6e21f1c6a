// GET /v1/statistics/users/media: parameters in, page out, with Synapse's next_token rule.

import { parseUsersMediaQuery, usersMediaQuerySchema } from "../params/users-media";
import { usersMediaResponseSchema } from "../responses";
import { createUsersMediaStore } from "../storage/users-media-store";
import type { UsersMediaResponse } from "../types";
import type { Endpoint } from "./endpoint";

export const usersMediaEndpoint: Endpoint = {
  contract: {
    path: "/v1/statistics/users/media",
    operationId: "getUsersMediaStatistics",
    summary: "Users' count and bytes of uploaded local media",
    querySchema: usersMediaQuerySchema,
    response: {
      name: "UsersMediaResponse",
      schema: usersMediaResponseSchema,
      description: "One page of users, and the total over all pages",
    },
    badRequest: "M_INVALID_PARAM: a parameter breaks its rule",
  },
  createHandler(options) {
    const store = createUsersMediaStore(options.knex, options.dialect);
    return async (query): Promise<UsersMediaResponse> => {
      const params = parseUsersMediaQuery(query);
      const page = await store.page({
        from: params.from,
        limit: params.limit,
        fromTs: params.from_ts,
        untilTs: params.until_ts,
        orderBy: params.order_by,
        direction: params.dir,
        searchTerm: params.search_term,
      });
      const body: UsersMediaResponse = { users: page.users, total: page.total };
      if (params.from + params.limit < page.total) {
        body.next_token = params.from + page.users.length;
      }
      return body;
    };
  },
};
