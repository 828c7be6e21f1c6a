// The users' media storage for one database: learns its schema and notices the opt-in
// per-user summary on first use, looks again every minute, and serves pages from the summary
// when it can.

import type { Knex } from "knex";
import { detectMediaUsageSummary, MEDIA_USAGE_SUMMARY_TABLE } from "../summary/media-usage-summary";
import type { Dialect } from "./dialect";
import { probeMediaSchema } from "./media-schema";
import {
  getUsersMediaPage,
  hasTimeWindow,
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

export function createUsersMediaStore(db: Knex, dialect: Dialect): UsersMediaStore {
  const schema = cachedFor(RECHECK_MS, () => probeMediaSchema(db, dialect));
  // A failed check (database down) is not a finding: the media table is asked instead.
  const summary = cachedFor(RECHECK_MS, () => detectMediaUsageSummary(db).catch(() => false));

  return {
    async page(filter) {
      const current = await schema.get();
      // The summary has no timestamps: time windows always read the media table.
      if (!hasTimeWindow(filter) && (await summary.get())) {
        try {
          return await getUsersMediaPage(db, dialect, current, filter, {
            kind: "summary",
            table: MEDIA_USAGE_SUMMARY_TABLE,
          });
        } catch (error) {
          // Uninstalled since the last check? Then the media table answers; else it failed.
          if (await summary.refresh()) throw error;
        }
      }
      return getUsersMediaPage(db, dialect, current, filter);
    },
  };
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
