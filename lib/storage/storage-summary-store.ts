// Whether the storage endpoints read the summary or the media tables: the summary when its
// storage part is installed whole, noticed on first use and looked for again every minute
// (as the users' media store does); the media tables when it is not, or when it went away
// since the last look (then a read of it fails, and the media tables answer instead).

import type { Knex } from "knex";
import { recoverably } from "../sql";
import { detectStorageSummary } from "../summary/media-usage-summary";
import { createSummaryLookup } from "./summary-lookup";

export interface StorageSummarySource {
  /** `fromSummary()` when the summary is there (inside a savepoint), else `fromScan()`, both on `db`. */
  read<T>(db: Knex, fromSummary: () => Promise<T>, fromScan: () => Promise<T>): Promise<T>;
}

export function createStorageSummarySource(): StorageSummarySource {
  const summary = createSummaryLookup(detectStorageSummary);
  return {
    async read(db, fromSummary, fromScan) {
      if (await summary.present(db)) {
        try {
          return await recoverably(db, fromSummary);
        } catch (error) {
          // Uninstalled since the last check? Then the media tables answer; else it failed.
          if (await summary.recheck(db)) throw error;
        }
      }
      return fromScan();
    },
  };
}
