// The users' media storage for one database: learns its schema and notices the opt-in
// per-user summary on first use, looks again every minute, and chooses for each request the
// statement shape that measured fastest for it (all shapes give the same answer).

import type { Knex } from "knex";
import type { Dialect } from "../dialect";
import { detectMediaUsageSummary, MEDIA_USAGE_SUMMARY_TABLE } from "../summary/media-usage-summary";
import { probeMediaSchema, type MediaSchema } from "./media-schema";
import {
  hasTimeWindow,
  inSnapshot,
  UsersMediaQuery,
  type UsersMediaFilter,
  type UsersMediaPage,
} from "./users-media";

export interface UsersMediaStore {
  page(filter: UsersMediaFilter): Promise<UsersMediaPage>;
}

/**
 * How long what was learnt about the database (its schema, its indexes, whether the summary is
 * there) is trusted before it is looked at again: an index or a summary added later is used
 * within a minute, without a restart.
 */
export const RECHECK_MS = 60_000;

/**
 * Up to this page size, the first-page shape aggregates only the page's users; beyond it,
 * aggregating everything once is cheaper than that many index walks.
 */
const PAGE_BY_UPLOADER_MAX_LIMIT = 1000;
/**
 * Up to this many users matching a search, their media are aggregated through the index;
 * more, and one scan of the whole table with the search applied per row is cheaper.
 */
const SEARCH_CANDIDATE_MAX = 2000;

export function createUsersMediaStore(db: Knex, dialect: Dialect): UsersMediaStore {
  const schema = cachedFor(RECHECK_MS, () => probeMediaSchema(db, dialect));
  // A failed check (database down) is not a finding: the media table is asked instead.
  const summary = cachedFor(RECHECK_MS, () => detectMediaUsageSummary(db).catch(() => false));

  return {
    async page(filter) {
      const current = await schema.get();
      // The summary has no timestamps: time windows always read the media table.
      if (!hasTimeWindow(filter) && (await summary.get())) {
        const query = new UsersMediaQuery(dialect, current, filter);
        try {
          return await query.run(db, query.summaryStatement(MEDIA_USAGE_SUMMARY_TABLE));
        } catch (error) {
          // Uninstalled since the last check? Then the media table answers; else it failed.
          if (await summary.refresh()) throw error;
        }
      }
      return pageFromMedia(db, dialect, current, filter);
    },
  };
}

/**
 * One page of users with their media count and bytes, and the number of users over all pages,
 * aggregated from the media table. Ties in the sort column are broken by user ID in the same
 * direction, so paging is stable.
 */
export async function pageFromMedia(
  db: Knex,
  dialect: Dialect,
  schema: MediaSchema,
  filter: UsersMediaFilter,
): Promise<UsersMediaPage> {
  const query = new UsersMediaQuery(dialect, schema, filter);
  if (!schema.userIndex) {
    // No index on user_id to walk: every shape below would read the table once per user.
    return query.run(db, query.aggregateStatement("search-per-row"));
  }
  if (
    filter.searchTerm === undefined &&
    !hasTimeWindow(filter) &&
    filter.orderBy === "user_id" &&
    filter.limit <= PAGE_BY_UPLOADER_MAX_LIMIT
  ) {
    return query.run(db, query.pageByUploaderStatement());
  }
  if (filter.searchTerm !== undefined) {
    // Two statements over one snapshot: who matches, then their media.
    return inSnapshot(db, dialect, async (trx) => {
      const matching = await query.rows<{ user_id: string }>(
        trx,
        query.candidatesStatement(SEARCH_CANDIDATE_MAX + 1),
      );
      return matching.length <= SEARCH_CANDIDATE_MAX
        ? query.run(trx, query.aggregateStatement(matching.map((row) => row.user_id)))
        : query.run(trx, query.aggregateStatement("search-per-row"));
    });
  }
  return query.run(db, query.aggregateStatement("search-per-row"));
}

/**
 * A value worked out on first use and again once it is older than `maxAgeMs`, lazily, on the
 * next call (a timer would keep the host's process alive). A failure is not kept: the next
 * call tries again. `refresh()` works it out anew at once, whatever is under way.
 */
function cachedFor<T>(
  maxAgeMs: number,
  compute: () => Promise<T>,
): { get(): Promise<T>; refresh(): Promise<T> } {
  let current: { value: Promise<T>; at: number } | undefined;
  const refresh = (): Promise<T> => {
    const value = compute();
    const entry = { value, at: Date.now() };
    current = entry;
    value.catch(() => {
      if (current === entry) current = undefined;
    });
    return value;
  };
  return {
    get: () => (current && Date.now() - current.at < maxAgeMs ? current.value : refresh()),
    refresh,
  };
}
