// The users' media storage for one database: learns its schema on first use, notices the
// opt-in per-user summary (at start, then again every minute), and serves pages from it when
// it can.

import type { Knex } from "knex";
import { detectMediaUsageSummary, MEDIA_USAGE_SUMMARY_TABLE } from "../summary/media-usage-summary";
import type { Dialect } from "./dialect";
import { probeMediaSchema, type MediaSchema } from "./media-schema";
import { getUsersMediaPage, type UsersMediaFilter, type UsersMediaPage } from "./users-media";

export interface UsersMediaStore {
  page(filter: UsersMediaFilter): Promise<UsersMediaPage>;
}

/** How long a finding about the summary (there or not) is trusted before it is checked again. */
export const SUMMARY_RECHECK_MS = 60_000;

export function createUsersMediaStore(db: Knex, dialect: Dialect): UsersMediaStore {
  // Kept only once the probe succeeds: a database that is down, or not migrated yet, is
  // probed again on the next request.
  let schema: Promise<MediaSchema> | undefined;
  const currentSchema = (): Promise<MediaSchema> => {
    if (schema === undefined) {
      const probing = probeMediaSchema(db, dialect);
      schema = probing;
      probing.catch(() => {
        if (schema === probing) schema = undefined;
      });
    }
    return schema;
  };

  // Checked lazily when stale, not by a timer: a router must not keep a process alive.
  let summary: { present: boolean; checkedAt: number } | undefined;
  let checking: Promise<boolean> | undefined;
  const summaryPresent = (force = false): Promise<boolean> => {
    if (!force && summary && Date.now() - summary.checkedAt < SUMMARY_RECHECK_MS) {
      return Promise.resolve(summary.present);
    }
    checking ??= detectMediaUsageSummary(db)
      .then(
        (present) => {
          summary = { present, checkedAt: Date.now() };
          return present;
        },
        // A failed check (database down) is not a finding: the media table is asked instead.
        () => false,
      )
      .finally(() => {
        checking = undefined;
      });
    return checking;
  };
  void summaryPresent();

  return {
    async page(filter) {
      const current = await currentSchema();
      const windowed = filter.fromTs > 0 || filter.untilTs !== undefined;
      // The summary has no timestamps: time windows always read the media table.
      if (!windowed && (await summaryPresent())) {
        try {
          return await getUsersMediaPage(db, dialect, current, filter, {
            kind: "summary",
            table: MEDIA_USAGE_SUMMARY_TABLE,
          });
        } catch (error) {
          // Uninstalled since the last check? Then the media table answers; else it failed.
          if (await summaryPresent(true)) throw error;
        }
      }
      return getUsersMediaPage(db, dialect, current, filter);
    },
  };
}
