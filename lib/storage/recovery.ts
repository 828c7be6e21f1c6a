// Whether a database is a hot standby (a streaming replica in recovery), and the settings that
// decide how often it cancels reads to replay the primary's changes.

import type { Knex } from "knex";
import { isPostgres } from "../dialect";

export interface RecoveryState {
  /** `pg_is_in_recovery()`: a standby, read-only until promoted. Always false on SQLite. */
  standby: boolean;
  /** On a standby, its `hot_standby_feedback` and `max_standby_streaming_delay`. */
  settings?: { hot_standby_feedback: string; max_standby_streaming_delay: string };
}

export async function readRecoveryState(db: Knex): Promise<RecoveryState> {
  if (!isPostgres(db)) return { standby: false };
  const result = await db.raw<{
    rows: Array<{ standby: boolean; feedback: string; delay: string }>;
  }>(
    `SELECT pg_is_in_recovery() AS standby,
            current_setting('hot_standby_feedback') AS feedback,
            current_setting('max_standby_streaming_delay') AS delay`,
  );
  const row = result.rows[0];
  if (!row?.standby) return { standby: false };
  return {
    standby: true,
    settings: { hot_standby_feedback: row.feedback, max_standby_streaming_delay: row.delay },
  };
}
