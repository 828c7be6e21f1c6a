// What both largest-rooms estimators share: the catalogue facts about each room table, the
// final "sum per room, largest ten" step, and running one pass per database in a READ ONLY
// transaction with the per-room totals of the state database carried into the main one.

import type { Knex } from "knex";
import { inReadSnapshot, toInteger } from "../sql";
import {
  LARGEST_ROOMS_LIMIT,
  MAIN_ROOM_TABLES,
  STATE_ROOM_TABLES,
  type HiddenTable,
  type RoomTable,
  type RoomsEstimate,
} from "./rooms-tables";

/** One database and the room tables read in it. */
export interface RoomDatabase {
  knex: Knex;
  tables: readonly RoomTable[];
}

/**
 * The databases to read, in order: the state database first when it is split off, so that its
 * per-room totals can be added to the main database's before the top ten is taken there.
 */
export function roomDatabases(main: Knex, state: Knex): RoomDatabase[] {
  if (state === main) {
    return [{ knex: main, tables: [...MAIN_ROOM_TABLES, ...STATE_ROOM_TABLES] }];
  }
  return [
    { knex: state, tables: STATE_ROOM_TABLES },
    { knex: main, tables: MAIN_ROOM_TABLES },
  ];
}

/**
 * SQL (one binding: the table names as a text array) listing each room table that exists, as
 * the search_path resolves it — the same table an unqualified query reads, whatever stale
 * copies other schemas hold. A missing table, or a name that is not a table, gives no row.
 *
 * `statistics_hidden_by` and `rows_hidden_by` say why PostgreSQL would hide the table's
 * `room_id` statistics (pg_stats shows a column's statistics only with SELECT on it and no
 * active row-level security: exactly its own filter) or its rows from the current role.
 */
export const ROOM_TABLES_SQL = `
  SELECT w.name AS wanted,
         n.nspname AS schema_name,
         c.relname AS table_name,
         c.relkind = 'p' AS partitioned,
         pg_total_relation_size(c.oid) AS total_bytes,
         pg_relation_size(c.oid, 'main') AS heap_bytes,
         current_setting('block_size')::integer AS block_size,
         c.reltuples::float8 AS reltuples,
         c.relpages AS relpages,
         room.attnum IS NOT NULL AS has_room_id,
         ARRAY(SELECT a.attname::text FROM pg_attribute AS a
                WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
                ORDER BY a.attnum) AS columns,
         CASE
           WHEN room.attnum IS NULL THEN NULL
           WHEN NOT has_column_privilege(c.oid, room.attnum, 'SELECT') THEN 'privilege'
           WHEN c.relrowsecurity AND row_security_active(c.oid) THEN 'row_security'
         END AS statistics_hidden_by,
         CASE
           WHEN EXISTS (SELECT 1 FROM pg_attribute AS a
                         WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
                           AND NOT has_column_privilege(c.oid, a.attnum, 'SELECT')) THEN 'privilege'
           WHEN c.relrowsecurity AND row_security_active(c.oid) THEN 'row_security'
         END AS rows_hidden_by,
         current_user::text AS role_name
    FROM unnest(?::text[]) AS w(name)
    JOIN pg_class AS c ON c.oid = to_regclass(w.name)
    JOIN pg_namespace AS n ON n.oid = c.relnamespace
    LEFT JOIN pg_attribute AS room
           ON room.attrelid = c.oid AND room.attname = 'room_id' AND NOT room.attisdropped
   WHERE c.relkind IN ('r', 'p', 'm')`;

/** A row of ROOM_TABLES_SQL as node-pg returns it (bigint as text). */
export interface RoomTableRow {
  wanted: RoomTable;
  schema_name: string;
  table_name: string;
  partitioned: boolean;
  total_bytes: string;
  heap_bytes: string;
  block_size: number;
  reltuples: number;
  relpages: number;
  has_room_id: boolean;
  columns: string[];
  statistics_hidden_by: HiddenTable["reason"] | null;
  rows_hidden_by: HiddenTable["reason"] | null;
  role_name: string;
}

export function hiddenTable(
  row: Pick<RoomTableRow, "wanted" | "schema_name" | "role_name">,
  reason: HiddenTable["reason"],
): HiddenTable {
  return { schema: row.schema_name, table: row.wanted, role: row.role_name, reason };
}

/**
 * SQL of a CTE named `top`: the rooms of `contributions` (a CTE of `room_id text, bytes
 * numeric` rows, defined by the caller) plus the rows carried from an earlier database (two
 * array bindings), summed per room and ranked largest first, ties by room_id in byte order
 * whatever the database's collation; then a LIMIT binding (NULL: every room).
 */
export const TOP_ROOMS_CTE = `
  top AS (
    SELECT every.room_id,
           sum(every.bytes) AS bytes,
           row_number() OVER (ORDER BY sum(every.bytes) DESC, every.room_id COLLATE "C") AS rank
      FROM (SELECT room_id, bytes FROM contributions
            UNION ALL
            SELECT carried.room_id, carried.bytes
              FROM unnest(?::text[], ?::numeric[]) AS carried(room_id, bytes)) AS every
     GROUP BY every.room_id
     ORDER BY rank
     LIMIT ?
  )`;

/** Per-room totals from an earlier database, as exact decimal text. */
export interface Carried {
  roomIds: string[];
  bytes: string[];
}

/** The three bindings of TOP_ROOMS_CTE. */
export const topRoomsBindings = (carried: Carried, limit: number | null): Knex.RawBinding[] => [
  carried.roomIds,
  carried.bytes,
  limit,
];

/** A ranked room as the top CTE yields it, with the byte total as exact decimal text. */
export interface TopRoomRow {
  room_id: string;
  bytes: string;
}

/** What one pass over one database found. */
export interface PassResult {
  rooms: TopRoomRow[];
  hiddenTables: HiddenTable[];
}

/**
 * One estimator's work on one database, inside its READ ONLY transaction: the rooms of
 * `tables` plus `carried`, ranked, `limit` of them (NULL: all, to carry on).
 */
export type EstimatorPass = (
  trx: Knex.Transaction,
  tables: readonly RoomTable[],
  carried: Carried,
  limit: number | null,
) => Promise<PassResult>;

/**
 * Runs `pass` over each database in turn, in a READ ONLY transaction each (the estimate must
 * never write, nor ANALYZE): the request's own when given one. Returns the top rooms of the
 * last one with byte totals as JSON integers.
 */
export async function estimateAcross(
  databases: readonly RoomDatabase[],
  pass: EstimatorPass,
): Promise<RoomsEstimate> {
  let carried: Carried = { roomIds: [], bytes: [] };
  const hiddenTables: HiddenTable[] = [];
  let rooms: TopRoomRow[] = [];
  for (const [index, database] of databases.entries()) {
    const last = index === databases.length - 1;
    const result = await inReadSnapshot(database.knex, "postgres", (trx) =>
      pass(trx, database.tables, carried, last ? LARGEST_ROOMS_LIMIT : null),
    );
    hiddenTables.push(...result.hiddenTables);
    rooms = result.rooms;
    carried = {
      roomIds: rooms.map((room) => room.room_id),
      bytes: rooms.map((room) => room.bytes),
    };
  }
  return {
    rooms: rooms.map((room) => ({ room_id: room.room_id, estimated_size: toInteger(room.bytes) })),
    hiddenTables,
  };
}
