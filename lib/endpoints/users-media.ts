// GET /v1/statistics/users/media: parameters in, page out, with Synapse's next_token rule.

import type { RawQuery } from "../http/query-string";
import { parseUsersMediaQuery } from "../params/users-media";
import type { UsersMediaStore } from "../storage/users-media-store";
import type { UsersMediaResponse } from "../types";

export async function usersMediaStatistics(
  query: RawQuery,
  store: UsersMediaStore,
): Promise<UsersMediaResponse> {
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
}
