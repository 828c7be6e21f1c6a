// What the per-user media summary holds, and what it should hold worked out in TypeScript from
// the media rows themselves, plus a listing of every schema object, for before/after checks.

import type { Knex } from "knex";
import { MEDIA_USAGE_SUMMARY_TABLE } from "../../lib";
import type { DatabaseKind } from "./databases";

export interface UsageRow {
  user_id: string;
  media_count: number;
  media_length: number;
}

const byUser = (a: UsageRow, b: UsageRow): number =>
  a.user_id < b.user_id ? -1 : a.user_id > b.user_id ? 1 : 0;

/** The summary table's rows, by user ID, with counts as numbers whatever the driver returns. */
export async function summaryRows(db: Knex): Promise<UsageRow[]> {
  const rows = await db<{
    user_id: string;
    media_count: number | string;
    media_length: number | string;
  }>(MEDIA_USAGE_SUMMARY_TABLE).select("user_id", "media_count", "media_length");
  return rows
    .map((row) => ({
      user_id: row.user_id,
      media_count: Number(row.media_count),
      media_length: Number(row.media_length),
    }))
    .sort(byUser);
}

/** The contract, applied to the media rows read back: rows of no user are not counted, NULL length is 0. */
export async function expectedSummaryRows(db: Knex): Promise<UsageRow[]> {
  const media = await db<{ user_id: string | null; media_length: number | string | null }>(
    "local_media_repository",
  ).select("user_id", "media_length");
  const users = new Map<string, UsageRow>();
  for (const row of media) {
    if (row.user_id === null) continue;
    const usage = users.get(row.user_id) ?? {
      user_id: row.user_id,
      media_count: 0,
      media_length: 0,
    };
    usage.media_count += 1;
    usage.media_length += Number(row.media_length ?? 0);
    users.set(row.user_id, usage);
  }
  return [...users.values()].sort(byUser);
}

/** One user's summary row, or undefined when there is none. */
export async function summaryRowOf(db: Knex, userId: string): Promise<UsageRow | undefined> {
  return (await summaryRows(db)).find((row) => row.user_id === userId);
}

/**
 * Every object in the database's own schemas, as `kind name (on table)` lines, so that an
 * install followed by an uninstall can be shown to leave the catalogue exactly as it was.
 * PostgreSQL: relations, types, functions, triggers and the media table's grants; SQLite:
 * sqlite_master.
 */
export async function catalogueListing(db: Knex, kind: DatabaseKind): Promise<string[]> {
  if (kind === "sqlite") {
    const rows = await db.raw<
      Array<{ type: string; name: string; tbl_name: string; sql: string | null }>
    >("SELECT type, name, tbl_name, sql FROM sqlite_master");
    return rows.map((row) => `${row.type} ${row.name} on ${row.tbl_name}: ${row.sql ?? ""}`).sort();
  }
  const result = await db.raw<{ rows: Array<{ line: string }> }>(
    `SELECT 'relation ' || n.nspname || '.' || c.relname || ' ' || c.relkind::text || ' ' || COALESCE(c.relacl::text, '') AS line
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
     UNION ALL
     SELECT 'type ' || n.nspname || '.' || t.typname
       FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
      WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
     UNION ALL
     SELECT 'function ' || n.nspname || '.' || p.proname
       FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
      WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
     UNION ALL
     SELECT 'trigger ' || t.tgname || ' on ' || t.tgrelid::regclass::text || ' ' || t.tgenabled::text
       FROM pg_trigger t WHERE NOT t.tgisinternal`,
  );
  return result.rows.map((row) => row.line).sort();
}
