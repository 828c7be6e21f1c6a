// The row-level triggers the summary shipped with on PostgreSQL in 0.1, kept word for word
// as those versions installed them: the benchmark measures them against today's statement-level
// triggers, and the upgrade tests make an install of those versions out of a current one.

import type { Knex } from "knex";
import { SUMMARY_TRIGGERS } from "../lib/summary/names";

type RowLevelEvent = "insert" | "delete" | "update";

/** The functions' bodies, as the earlier versions generated them for the summary table `summary`. */
function rowLevelBodies(summary: string): Record<RowLevelEvent, string> {
  const addNew = `
    INSERT INTO ${summary} AS summary (user_id, media_count, media_length)
    VALUES (NEW.user_id, 1, COALESCE(NEW.media_length, 0))
    ON CONFLICT (user_id) DO UPDATE
       SET media_count = summary.media_count + 1,
           media_length = summary.media_length + EXCLUDED.media_length;`;
  const removeOld = `
    UPDATE ${summary}
       SET media_count = media_count - 1,
           media_length = media_length - COALESCE(OLD.media_length, 0)
     WHERE user_id = OLD.user_id
    RETURNING media_count INTO remaining;
    IF remaining = 0 THEN
      DELETE FROM ${summary} WHERE user_id = OLD.user_id;
    END IF;`;
  return {
    insert: `BEGIN${addNew}
  RETURN NULL;
END`,
    delete: `DECLARE remaining BIGINT;
BEGIN${removeOld}
  RETURN NULL;
END`,
    update: `DECLARE remaining BIGINT;
BEGIN
  IF OLD.user_id IS NOT DISTINCT FROM NEW.user_id THEN
    UPDATE ${summary}
       SET media_length = media_length - COALESCE(OLD.media_length, 0) + COALESCE(NEW.media_length, 0)
     WHERE user_id = NEW.user_id;
  ELSE
    IF OLD.user_id IS NOT NULL THEN${removeOld}
    END IF;
    IF NEW.user_id IS NOT NULL THEN${addNew}
    END IF;
  END IF;
  RETURN NULL;
END`,
  };
}

const ROW_LEVEL_EVENTS: Record<RowLevelEvent, string> = {
  insert: "AFTER INSERT ON %media% FOR EACH ROW WHEN (NEW.user_id IS NOT NULL)",
  delete: "AFTER DELETE ON %media% FOR EACH ROW WHEN (OLD.user_id IS NOT NULL)",
  update:
    "AFTER UPDATE OF user_id, media_length ON %media% FOR EACH ROW" +
    " WHEN (OLD.user_id IS DISTINCT FROM NEW.user_id OR OLD.media_length IS DISTINCT FROM NEW.media_length)",
};

/**
 * Turns the summary installed on `db` (in the `public` schema) into what an earlier version
 * installed: its INSERT, DELETE and UPDATE triggers and their functions replaced by the
 * row-level ones, under the same names (the TRUNCATE trigger was the same then).
 */
export async function useRowLevelTriggers(db: Knex): Promise<void> {
  const schema = "public";
  const media = `${schema}.local_media_repository`;
  const bodies = rowLevelBodies(`${schema}.sas_user_media_usage`);
  await db.transaction(async (trx) => {
    for (const event of Object.keys(ROW_LEVEL_EVENTS) as RowLevelEvent[]) {
      const name = SUMMARY_TRIGGERS[event];
      await trx.raw(`DROP TRIGGER ${name} ON ${media}`);
      await trx.raw(
        `CREATE OR REPLACE FUNCTION ${schema}.${name}() RETURNS trigger LANGUAGE plpgsql AS $sas$\n${bodies[event]}\n$sas$`,
      );
      await trx.raw(
        `CREATE TRIGGER ${name} ${ROW_LEVEL_EVENTS[event].replace("%media%", media)} EXECUTE FUNCTION ${schema}.${name}()`,
      );
    }
  });
}
