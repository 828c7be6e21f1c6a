// Learns, once per database, the facts about Synapse's schema that change the media query:
// whether `profiles` has `full_user_id` (Synapse 1.85+) filled on every row, and whether the
// database already compares text by byte order (Synapse's own requirement) or needs
// `COLLATE "C"` for it.

import type { Knex } from "knex";
import type { Dialect } from "../dialect";

export interface MediaSchema {
  /**
   * How a media row finds its profile: by full user ID, or by localpart: before 1.85, and on
   * a database upgraded past it whose `populate_full_user_id_profiles` background update has
   * not filled every row yet (Synapse itself then finds no displayname for those rows).
   */
  profileKey: "full_user_id" | "localpart";
  /**
   * Appended to text expressions that are sorted, so both backends order by bytes. Empty when
   * the database's own collation is already C: then Synapse's index keeps serving the sort.
   */
  byteOrder: string;
  /** An index leads with `user_id` (Synapse's users_have_local_media): uploaders can be skip-scanned. */
  userIndex: boolean;
  /**
   * An index leads with `user_id` and holds `media_length` too (the optional covering index
   * the README describes): a per-user aggregate can read it alone.
   */
  coveringIndex: boolean;
}

/** A table the media endpoint reads does not exist: an operator's mistake, named in the log. */
export class MissingTableError extends Error {
  constructor(readonly table: string) {
    super(`table ${table} does not exist`);
    this.name = "MissingTableError";
  }
}

const REQUIRED_TABLES = ["local_media_repository", "profiles"] as const;

interface ProbeRow {
  table_name: string;
  present: boolean | number;
  has_full_user_id: boolean | number | null;
}

/** Reads the schema facts; throws MissingTableError naming the first table that is missing. */
export async function probeMediaSchema(db: Knex, dialect: Dialect): Promise<MediaSchema> {
  const rows = dialect === "postgres" ? await probePostgres(db) : await probeSqlite(db);
  const indexes =
    dialect === "postgres" ? await mediaIndexesPostgres(db) : await mediaIndexesSqlite(db);
  for (const table of REQUIRED_TABLES) {
    const row = rows.tables.find((candidate) => candidate.table_name === table);
    if (!row || !row.present) throw new MissingTableError(table);
  }
  const profiles = rows.tables.find((row) => row.table_name === "profiles");
  // The localpart join finds every profile, filled or not: local media has local users only,
  // and `profiles.user_id` is the localpart, unique. The full_user_id join, which the index
  // serves directly, is kept for databases where it finds them all.
  const fullUserIdComplete =
    Boolean(profiles?.has_full_user_id) && !(await hasUnfilledFullUserIds(db, dialect));
  return {
    profileKey: fullUserIdComplete ? "full_user_id" : "localpart",
    byteOrder: rows.collationIsBytewise ? "" : ' COLLATE "C"',
    userIndex: indexes.some((columns) => columns[0] === "user_id"),
    coveringIndex: indexes.some(
      (columns) => columns[0] === "user_id" && columns.includes("media_length"),
    ),
  };
}

/**
 * Whether some profile has no `full_user_id` yet. One index probe when the background index
 * `profiles_full_user_id_key` exists (b-tree indexes hold NULLs, on both backends); otherwise
 * a scan that stops at the first NULL, and this runs once per recheck, not per request.
 */
async function hasUnfilledFullUserIds(db: Knex, dialect: Dialect): Promise<boolean> {
  const sql = "SELECT EXISTS (SELECT 1 FROM profiles WHERE full_user_id IS NULL) AS unfilled";
  if (dialect === "postgres") {
    const result = await db.raw<{ rows: Array<{ unfilled: boolean }> }>(sql);
    return result.rows[0]?.unfilled === true;
  }
  const rows = await db.raw<Array<{ unfilled: number }>>(sql);
  return Number(rows[0]?.unfilled) === 1;
}

/** The column lists of the complete (not partial) indexes on local_media_repository. */
async function mediaIndexesPostgres(db: Knex): Promise<string[][]> {
  const result = await db.raw<{ rows: Array<{ columns: string[] | null }> }>(
    `SELECT (SELECT array_agg(a.attname::text ORDER BY k.position)
               FROM unnest(ix.indkey) WITH ORDINALITY AS k(attnum, position)
               JOIN pg_attribute a ON a.attrelid = ix.indrelid AND a.attnum = k.attnum) AS columns
       FROM pg_index ix
      WHERE ix.indrelid = to_regclass('local_media_repository')
        AND ix.indisvalid AND ix.indpred IS NULL`,
  );
  return result.rows.map((row) => row.columns ?? []);
}

async function mediaIndexesSqlite(db: Knex): Promise<string[][]> {
  const rows = await db.raw<Array<{ index_name: string; column_name: string | null }>>(
    `SELECT il.name AS index_name, ii.name AS column_name
       FROM pragma_index_list('local_media_repository') AS il,
            pragma_index_info(il.name) AS ii
      WHERE il.partial = 0
      ORDER BY il.name, ii.seqno`,
  );
  const byIndex = new Map<string, string[]>();
  for (const row of rows) {
    const columns = byIndex.get(row.index_name) ?? [];
    columns.push(row.column_name ?? "");
    byIndex.set(row.index_name, columns);
  }
  return [...byIndex.values()];
}

async function probePostgres(
  db: Knex,
): Promise<{ tables: ProbeRow[]; collationIsBytewise: boolean }> {
  // to_regclass resolves through the search_path exactly as the media query will.
  const tables = await db.raw<{ rows: ProbeRow[] }>(
    `SELECT t.table_name,
            to_regclass(t.table_name) IS NOT NULL AS present,
            EXISTS (SELECT 1 FROM pg_attribute a
                     WHERE a.attrelid = to_regclass(t.table_name)
                       AND a.attname = 'full_user_id' AND NOT a.attisdropped) AS has_full_user_id
       FROM unnest(?::text[]) AS t(table_name)`,
    [[...REQUIRED_TABLES]],
  );
  // Only libc's C/POSIX (and PostgreSQL 17's builtin C) compare plain bytes; the provider
  // columns differ across versions, hence the row-to-JSON read.
  const database = await db.raw<{
    rows: Array<{ collate: string; provider: string | null; locale: string | null }>;
  }>(
    `SELECT d.datcollate AS collate,
            to_jsonb(d) ->> 'datlocprovider' AS provider,
            to_jsonb(d) ->> 'datlocale' AS locale
       FROM pg_database d WHERE d.datname = current_database()`,
  );
  const info = database.rows[0];
  const provider = info?.provider ?? "c";
  const collationIsBytewise =
    (provider === "c" && (info?.collate === "C" || info?.collate === "POSIX")) ||
    (provider === "b" && info?.locale === "C");
  return { tables: tables.rows, collationIsBytewise };
}

async function probeSqlite(
  db: Knex,
): Promise<{ tables: ProbeRow[]; collationIsBytewise: boolean }> {
  const tables: ProbeRow[] = [];
  for (const table of REQUIRED_TABLES) {
    const columns = await db.raw<Array<{ name: string }>>("SELECT name FROM pragma_table_info(?)", [
      table,
    ]);
    tables.push({
      table_name: table,
      present: columns.length > 0,
      has_full_user_id: columns.some((column) => column.name === "full_user_id"),
    });
  }
  // SQLite's default BINARY collation is memcmp over UTF-8: byte order already.
  return { tables, collationIsBytewise: true };
}
