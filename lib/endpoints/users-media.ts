// GET /v1/statistics/users/media: parameters in, page out, with Synapse's next_token rule.

import { StreamedJsonObject } from "../http/respond";
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
    const store = createUsersMediaStore(options.dialect);
    return async (query, { signal, scope }): Promise<UsersMediaResponse | StreamedJsonObject> => {
      const params = parseUsersMediaQuery(query);
      const page = await store.page(
        await scope.transaction(options.knex),
        {
          from: params.from,
          limit: params.limit,
          fromTs: params.from_ts,
          untilTs: params.until_ts,
          orderBy: params.order_by,
          direction: params.dir,
          searchTerm: params.search_term,
        },
        // The scope stays open while the answer is written: a large page is read meanwhile.
        { stream: { signal } },
      );
      // `total` and `next_token` follow `users`: known once the users are written.
      const after = (count: number): Omit<UsersMediaResponse, "users"> =>
        params.from + params.limit < page.total
          ? { total: page.total, next_token: params.from + count }
          : { total: page.total };
      if (!Array.isArray(page.users)) return new StreamedJsonObject("users", page.users, after);
      return { users: page.users, ...after(page.users.length) };
    };
  },
};
