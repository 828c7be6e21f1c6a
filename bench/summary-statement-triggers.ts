// The design the summary did not ship, kept so the choice can be measured again: statement-
// level triggers on PostgreSQL that read the changed rows from transition tables and apply one
// aggregated change per user. Swapped in for the row-level triggers of an installed summary.

import type { Knex } from "knex";
import { SUMMARY_TRIGGERS } from "../lib/summary/names";

const TABLE = "sas_user_media_usage";

// Net change per user of a statement's old and new rows, applied in user order (so two such
// statements lock summary rows in the same order), then the users it emptied removed (only
// old rows, those deleted or moved away, can empty a user).
const applyDelta = (rows: string, canEmpty: boolean) => `
  WITH delta AS (
    SELECT user_id, SUM(count) AS count, SUM(length) AS length
      FROM (${rows}) AS changed
     WHERE user_id IS NOT NULL
     GROUP BY user_id
    HAVING SUM(count) <> 0 OR SUM(length) <> 0
  )
  INSERT INTO ${TABLE} AS summary (user_id, media_count, media_length)
  SELECT user_id, count, length FROM delta ORDER BY user_id COLLATE "C"
  ON CONFLICT (user_id) DO UPDATE
     SET media_count = summary.media_count + EXCLUDED.media_count,
         media_length = summary.media_length + EXCLUDED.media_length;${
           canEmpty
             ? `
  DELETE FROM ${TABLE} WHERE media_count = 0 AND user_id IN (SELECT user_id FROM old_rows);`
             : ""
         }`;

const NEW_ROWS =
  "SELECT user_id, 1 AS count, COALESCE(media_length, 0)::bigint AS length FROM new_rows";
const OLD_ROWS =
  "SELECT user_id, -1 AS count, -COALESCE(media_length, 0)::bigint AS length FROM old_rows";

const FUNCTIONS: Record<
  "insert" | "delete" | "update",
  { referencing: string; event: string; body: string }
> = {
  insert: {
    event: "INSERT",
    referencing: "NEW TABLE AS new_rows",
    body: applyDelta(NEW_ROWS, false),
  },
  delete: {
    event: "DELETE",
    referencing: "OLD TABLE AS old_rows",
    body: applyDelta(OLD_ROWS, true),
  },
  // Transition tables allow no column list: this fires on every UPDATE, last_access_ts too.
  update: {
    event: "UPDATE",
    referencing: "OLD TABLE AS old_rows NEW TABLE AS new_rows",
    body: applyDelta(`${NEW_ROWS} UNION ALL ${OLD_ROWS}`, true),
  },
};

/** Replaces the installed summary's row-level INSERT, DELETE and UPDATE triggers with statement-level ones. */
export async function useStatementLevelTriggers(db: Knex): Promise<void> {
  for (const [event, { referencing, event: on, body }] of Object.entries(FUNCTIONS) as Array<
    [keyof typeof FUNCTIONS, (typeof FUNCTIONS)[keyof typeof FUNCTIONS]]
  >) {
    const name = `sas_bench_statement_${event}`;
    await db.raw(`DROP TRIGGER ${SUMMARY_TRIGGERS[event]} ON local_media_repository`);
    await db.raw(
      `CREATE FUNCTION ${name}() RETURNS trigger LANGUAGE plpgsql AS $sas$\nBEGIN${body}\n  RETURN NULL;\nEND\n$sas$`,
    );
    await db.raw(
      `CREATE TRIGGER ${name} AFTER ${on} ON local_media_repository REFERENCING ${referencing} FOR EACH STATEMENT EXECUTE FUNCTION ${name}()`,
    );
  }
}
