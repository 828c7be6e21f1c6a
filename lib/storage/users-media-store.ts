// The users' media storage for one database: learns its schema and notices the opt-in
// per-user summary on first use, looks again every minute, and chooses for each request the
// statement shape that measured fastest for it (all shapes give the same answer). Each call
// runs on the knex it is given: the request's own transaction, normally.

import type { Knex } from "knex";
import type { Dialect } from "../dialect";
import { inReadSnapshot, recoverably } from "../sql";
import { cachedFor, createSummaryLookup, RECHECK_MS } from "./summary-lookup";
import { detectMediaUsageSummary, MEDIA_USAGE_SUMMARY_TABLE } from "../summary/media-usage-summary";
import { probeMediaSchema, type MediaSchema } from "./media-schema";
import {
  hasTimeWindow,
  UsersMediaQuery,
  type PageReading,
  type UsersMediaFilter,
  type UsersMediaPage,
} from "./users-media";

export interface UsersMediaStore {
  /** One page, read on `db`: the database the store was made for, or a transaction on it. */
  page(db: Knex, filter: UsersMediaFilter, reading?: PageReading): Promise<UsersMediaPage>;
}

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

/** The store of one database; what it learns of that database is kept across calls. */
export function createUsersMediaStore(dialect: Dialect): UsersMediaStore {
  const schema = cachedFor(RECHECK_MS, (db) => probeMediaSchema(db, dialect));
  const summary = createSummaryLookup(detectMediaUsageSummary);

  return {
    async page(db, filter, reading = {}) {
      const current = await schema.get(db);
      // The summary has no timestamps: time windows always read the media table.
      if (!hasTimeWindow(filter) && (await summary.present(db))) {
        const query = new UsersMediaQuery(dialect, current, filter, reading);
        try {
          return await recoverably(db, () =>
            query.run(db, query.summaryStatement(MEDIA_USAGE_SUMMARY_TABLE)),
          );
        } catch (error) {
          // Uninstalled since the last check? Then the media table answers; else it failed.
          if (await summary.recheck(db)) throw error;
        }
      }
      return pageFromMedia(db, dialect, current, filter, reading);
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
  reading: PageReading = {},
): Promise<UsersMediaPage> {
  const query = new UsersMediaQuery(dialect, schema, filter, reading);
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
    return inReadSnapshot(db, dialect, async (trx) => {
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
