// Where the disk goes, in the few figures the metrics listener exports: media and thumbnail
// totals, and the size of the database and of its largest tables. One refresh is one
// aggregate scan of each media table and a catalogue read; the caller decides how rarely.

import type { Knex } from "knex";
import type { Dialect } from "../dialect";
import { knexRunner, toInteger, type SqlRunner } from "../sql";

/** Files and bytes of one kind of stored media. */
export interface CountAndBytes {
  count: number;
  /** A NULL length counts as 0 bytes. */
  bytes: number;
}

/** Which of Synapse's databases a figure belongs to. */
export type DatabaseRole = "main" | "state";

/** Everything one refresh of the storage gauges reads. */
export interface StorageFigures {
  /** `local_media_repository`: every row, URL previews and quarantined media included. */
  localMedia: CountAndBytes;
  /** `local_media_repository_thumbnails`; absent when the table does not exist. */
  localThumbnails?: CountAndBytes;
  /** `remote_media_cache`; absent when the table does not exist. */
  remoteMedia?: CountAndBytes;
  /** `remote_media_cache_thumbnails`; absent when the table does not exist. */
  remoteThumbnails?: CountAndBytes;
  /** Each database's size on disk: the main one, and the state one when it is split off. */
  databases: Array<{ database: DatabaseRole; bytes: number }>;
  /**
   * The largest tables of each database, indexes and TOAST included, largest first
   * (PostgreSQL only: SQLite keeps no per-table size short of reading every page).
   */
  largestTables: Array<{ database: DatabaseRole; table: string; bytes: number }>;
}

/** Reads the figures afresh. The metrics listener calls it in the background. */
export type StorageFiguresProvider = () => Promise<StorageFigures>;

/** How many tables of each database the largest-tables figure lists. */
export const LARGEST_TABLES_LIMIT = 10;

// Each optional store: its table and its length column. Names come from this list only.
const STORES = {
  localThumbnails: { table: "local_media_repository_thumbnails", length: "thumbnail_length" },
  remoteMedia: { table: "remote_media_cache", length: "media_length" },
  remoteThumbnails: { table: "remote_media_cache_thumbnails", length: "thumbnail_length" },
} as const;

interface TotalsRow {
  count: number | string;
  bytes: number | string | null;
}

/** The figures of a Synapse database (and its split-off state database, PostgreSQL only). */
export async function readStorageFigures(
  main: { knex: Knex; dialect: Dialect },
  state?: Knex,
): Promise<StorageFigures> {
  const run = knexRunner(main.knex, main.dialect);
  const present = await existingTables(
    run,
    Object.values(STORES).map((store) => store.table),
  );
  const figures: StorageFigures = {
    localMedia: await totals(run, "local_media_repository", "media_length"),
    databases: [{ database: "main", bytes: await databaseBytes(run) }],
    largestTables: [],
  };
  for (const [name, store] of Object.entries(STORES) as Array<
    [keyof typeof STORES, (typeof STORES)[keyof typeof STORES]]
  >) {
    if (present.has(store.table)) figures[name] = await totals(run, store.table, store.length);
  }
  if (main.dialect === "postgres") {
    figures.largestTables.push(...(await largestTables(run, "main")));
  }
  if (state !== undefined && state !== main.knex) {
    const stateRun = knexRunner(state, "postgres");
    figures.databases.push({ database: "state", bytes: await databaseBytes(stateRun) });
    figures.largestTables.push(...(await largestTables(stateRun, "state")));
  }
  return figures;
}

async function totals(run: SqlRunner, table: string, length: string): Promise<CountAndBytes> {
  const [row] = await run.rows<TotalsRow>(
    `SELECT COUNT(*) AS count, SUM(${length}) AS bytes FROM ${table}`,
  );
  return { count: toInteger(row?.count), bytes: toInteger(row?.bytes) };
}

/** Which of `tables` exist, as an unqualified query would find them. */
async function existingTables(run: SqlRunner, tables: readonly string[]): Promise<Set<string>> {
  const rows =
    run.dialect === "postgres"
      ? await run.rows<{ name: string }>(
          "SELECT t AS name FROM unnest(?::text[]) AS t WHERE to_regclass(t) IS NOT NULL",
          [tables],
        )
      : await run.rows<{ name: string }>(
          `SELECT name FROM sqlite_master WHERE type = 'table' AND name IN (${tables.map(() => "?").join(", ")})`,
          tables,
        );
  return new Set(rows.map((row) => row.name));
}

async function databaseBytes(run: SqlRunner): Promise<number> {
  // SQLite: the main file as its pages say (the WAL file, if any, is not counted).
  const [row] = await run.rows<{ bytes: number | string }>(
    run.dialect === "postgres"
      ? "SELECT pg_database_size(current_database()) AS bytes"
      : "SELECT page_count * page_size AS bytes FROM pragma_page_count(), pragma_page_size()",
  );
  return toInteger(row?.bytes);
}

async function largestTables(
  run: SqlRunner,
  database: DatabaseRole,
): Promise<StorageFigures["largestTables"]> {
  // The tables of the schemas on the search_path: where Synapse's own tables are found.
  const rows = await run.rows<{ name: string; bytes: string }>(
    `SELECT c.relname AS name, pg_total_relation_size(c.oid) AS bytes
       FROM pg_class AS c
       JOIN pg_namespace AS n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'm') AND n.nspname = ANY (current_schemas(false))
      ORDER BY bytes DESC, c.relname COLLATE "C"
      LIMIT ?`,
    [LARGEST_TABLES_LIMIT],
  );
  return rows.map((row) => ({ database, table: row.name, bytes: toInteger(row.bytes) }));
}
