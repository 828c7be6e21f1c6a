// How big a database is and which tables take the most of it. PostgreSQL reports both from
// its catalogue and the files' sizes, without reading a row; SQLite knows its page count, and
// its page-by-page `dbstat` table (when compiled in) tells whose each page is.

import type { Knex } from "knex";
import type { Dialect } from "../dialect";
import { knexRunner, toInteger } from "../sql";
import type { TableSize } from "../storage-types";

type Count = number | string | null;

/** The size of the database in bytes (PostgreSQL: `pg_database_size`; SQLite: its pages). */
export async function readDatabaseSize(db: Knex, dialect: Dialect): Promise<number> {
  const [row] = await knexRunner(db, dialect).rows<{ bytes: Count }>(
    dialect === "postgres"
      ? "SELECT pg_database_size(current_database()) AS bytes"
      : // The main file only: a write-ahead log beside it is not counted.
        "SELECT p.page_count * s.page_size AS bytes FROM pragma_page_count() AS p, pragma_page_size() AS s",
  );
  return toInteger(row?.bytes);
}

/**
 * The `limit` largest tables, largest first (ties by schema and name, byte order), with the
 * bytes of the table, its indexes and its TOAST, and its rows; `null` when the database cannot
 * tell (SQLite built without `dbstat`).
 */
export async function readLargestTables(
  db: Knex,
  dialect: Dialect,
  limit: number,
): Promise<TableSize[] | null> {
  return dialect === "postgres" ? largestTablesPostgres(db, limit) : largestTablesSqlite(db, limit);
}

/** Whether this SQLite was built with the `dbstat` table, which table sizes need. */
export async function sqliteHasDbstat(db: Knex): Promise<boolean> {
  const rows = await knexRunner(db, "sqlite").rows<{ present: number }>(
    "SELECT 1 AS present FROM pragma_compile_options WHERE compile_options = 'ENABLE_DBSTAT_VTAB'",
  );
  return rows.length > 0;
}

interface PostgresTableRow {
  schema: string;
  table: string;
  total_bytes: Count;
  index_bytes: Count;
  toast_bytes: Count;
  rows: Count;
}

async function largestTablesPostgres(db: Knex, limit: number): Promise<TableSize[]> {
  // Every table's total size, then the detail of the largest only. These functions read file
  // sizes and need no privilege on the table; reltuples is the planner's row estimate, -1
  // (PostgreSQL 14+) until the table is first vacuumed or analysed.
  const rows = await knexRunner(db, "postgres").rows<PostgresTableRow>(
    `SELECT t.schema, t.table, t.total_bytes,
            pg_indexes_size(t.oid) AS index_bytes,
            COALESCE(pg_total_relation_size(NULLIF(t.reltoastrelid, 0)), 0) AS toast_bytes,
            CASE WHEN t.reltuples < 0 THEN NULL ELSE t.reltuples::bigint END AS rows
       FROM (
         SELECT c.oid, c.reltoastrelid, c.reltuples, n.nspname AS schema, c.relname AS table,
                pg_total_relation_size(c.oid) AS total_bytes
           FROM pg_class AS c
           JOIN pg_namespace AS n ON n.oid = c.relnamespace
          WHERE c.relkind IN ('r', 'm')
            AND n.nspname NOT IN ('pg_catalog', 'information_schema')
            AND n.nspname !~ '^pg_(toast|temp_|toast_temp_)'
       ) AS t
      WHERE t.total_bytes IS NOT NULL
      ORDER BY t.total_bytes DESC, t.schema COLLATE "C", t.table COLLATE "C"
      LIMIT ?`,
    [limit],
  );
  return rows.map((row) => {
    const total = toInteger(row.total_bytes);
    const index = toInteger(row.index_bytes);
    const toast = toInteger(row.toast_bytes);
    return {
      schema: row.schema,
      table: row.table,
      total_bytes: total,
      table_bytes: total - index - toast,
      index_bytes: index,
      toast_bytes: toast,
      rows: row.rows === null ? null : toInteger(row.rows),
    };
  });
}

interface SqliteTableRow {
  table: string;
  table_bytes: Count;
  index_bytes: Count;
  rows: Count;
}

async function largestTablesSqlite(db: Knex, limit: number): Promise<TableSize[] | null> {
  if (!(await sqliteHasDbstat(db))) return null;
  // dbstat has a row per page, named after its table or index, overflow pages included. A
  // table's rows are the cells of its leaf pages; a WITHOUT ROWID table keeps rows in its
  // interior pages as well.
  const rows = await knexRunner(db, "sqlite").rows<SqliteTableRow>(
    `WITH pages AS (
       SELECT name, SUM(pgsize) AS bytes,
              SUM(CASE WHEN pagetype = 'leaf' THEN ncell ELSE 0 END) AS leaf_cells,
              SUM(CASE WHEN pagetype = 'internal' THEN ncell ELSE 0 END) AS interior_cells
         FROM dbstat WHERE schema = 'main' GROUP BY name
     ),
     per_table AS (
       SELECT o.tbl_name AS "table",
              SUM(CASE WHEN o.type = 'table' THEN p.bytes ELSE 0 END) AS table_bytes,
              SUM(CASE WHEN o.type = 'index' THEN p.bytes ELSE 0 END) AS index_bytes,
              SUM(CASE WHEN o.type <> 'table' THEN 0
                       WHEN l.wr THEN p.leaf_cells + p.interior_cells
                       ELSE p.leaf_cells END) AS rows
         FROM sqlite_schema AS o
         JOIN pages AS p ON p.name = o.name
         LEFT JOIN pragma_table_list AS l ON l.schema = 'main' AND l.name = o.tbl_name
        WHERE o.type IN ('table', 'index')
        GROUP BY o.tbl_name
     )
     SELECT "table", table_bytes, index_bytes, rows FROM per_table
      ORDER BY table_bytes + index_bytes DESC, "table" ASC
      LIMIT ?`,
    [limit],
  );
  return rows.map((row) => {
    const table = toInteger(row.table_bytes);
    const index = toInteger(row.index_bytes);
    return {
      schema: null,
      table: row.table,
      total_bytes: table + index,
      table_bytes: table,
      index_bytes: index,
      toast_bytes: null,
      rows: toInteger(row.rows),
    };
  });
}
