// The users' media storage for one database: learns its schema and notices the opt-in
// per-user summary on first use, looks again every minute, and chooses for each request the
// statement shape that measured fastest for it (all shapes give the same answer). Each call
// runs on the knex it is given: the request's own transaction, normally.

import type { Knex } from "knex";
import type { Dialect } from "../dialect";
import { inReadSnapshot, recoverably } from "../sql";
import { detectMediaUsageSummary, MEDIA_USAGE_SUMMARY_TABLE } from "../summary/media-usage-summary";
import { transientCause } from "../execution/transient";
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

/** The store of one database; what it learns of that database is kept across calls. */
export function createUsersMediaStore(dialect: Dialect): UsersMediaStore {
  const schema = cachedFor(RECHECK_MS, (db) => probeMediaSchema(db, dialect));
  const summary = cachedFor(RECHECK_MS, (db) =>
    lookUpSummary(db, () => detectMediaUsageSummary(db)),
  );

  return {
    async page(db, filter, reading = {}) {
      const current = await schema.get(db);
      // The summary has no timestamps: time windows always read the media table.
      if (!hasTimeWindow(filter) && (await summary.get(db))) {
        const query = new UsersMediaQuery(dialect, current, filter, reading);
        try {
          return await recoverably(db, () =>
            query.run(db, query.summaryStatement(MEDIA_USAGE_SUMMARY_TABLE)),
          );
        } catch (error) {
          // Uninstalled since the last check? Then the media table answers; else it failed.
          if (await summary.refresh(db)) throw error;
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

/**
 * Whether a summary is installed, as `detect` finds it. A check that fails for a reason of its
 * own (a catalogue the role may not read) finds none, and the media tables answer; one that
 * failed because the database went away (a restart, a failover) found nothing out: it fails,
 * so that no answer is kept, and the request's retry looks again.
 */
export async function lookUpSummary(db: Knex, detect: () => Promise<boolean>): Promise<boolean> {
  try {
    return await recoverably(db, detect);
  } catch (error) {
    if (transientCause(error) !== undefined) throw error;
    return false;
  }
}

/**
 * A value worked out on first use and again once it is older than `maxAgeMs`, lazily, on the
 * next call (a timer would keep the host's process alive), on the knex of the call that needs
 * it. A failure is not kept: the next call tries again. `refresh(db)` works it out anew at
 * once, whatever is under way.
 */
export function cachedFor<T>(
  maxAgeMs: number,
  compute: (db: Knex) => Promise<T>,
): { get(db: Knex): Promise<T>; refresh(db: Knex): Promise<T> } {
  let current: { value: Promise<T>; at: number; db: Knex } | undefined;
  const refresh = (db: Knex): Promise<T> => {
    const value = compute(db);
    const entry = { value, at: Date.now(), db };
    current = entry;
    value.catch(() => {
      if (current === entry) current = undefined;
    });
    return value;
  };
  return {
    async get(db) {
      const entry = current;
      if (entry === undefined || Date.now() - entry.at >= maxAgeMs) return refresh(db);
      try {
        return await entry.value;
      } catch (error) {
        // Worked out in another request's transaction, which may have been stopped because
        // its client left: that says nothing of this request. Work it out here.
        if (entry.db === db) throw error;
        return refresh(db);
      }
    },
    refresh,
  };
}
