// The `planner` estimate of the largest rooms: Synapse's arithmetic on PostgreSQL's planner
// statistics, in one catalogue query per database.
//
// Per room table, a room is credited pg_total_relation_size(table) times its frequency among
// the table's `room_id` most-common values, truncated to whole bytes per table (Python's int()
// in Synapse), then summed over tables. The product stays in numeric: in floating point it is
// off by a byte now and then, and the answer must be Synapse's to the byte.

import type { Knex } from "knex";
import {
  estimateAcross,
  hiddenTable,
  ROOM_TABLES_SQL,
  TOP_ROOMS_CTE,
  topRoomsBindings,
  type EstimatorPass,
  type RoomDatabase,
  type RoomTableRow,
} from "./rooms-catalogue";
import type { HiddenTable, RoomsEstimate } from "./rooms-tables";

// A table that is missing, never analysed, analysed while empty, has only NULL room_ids or
// no most-common values gives no row here: it contributes nothing (Synapse answers 500).
// pg_stats is joined on the schema of the table actually measured, not on the name alone,
// which would also match a stale copy in another schema. `inherited` picks the statistics
// that describe the same rows pg_total_relation_size measures. The ::text casts turn the
// anyarray columns into arrays of a real type; the frequencies (float4) go through their text
// form to numeric exactly as Synapse reads them.
const PLANNER_SQL = `
  WITH room_tables AS MATERIALIZED (${ROOM_TABLES_SQL}),
  contributions AS (
    SELECT mcv.room_id, trunc(mcv.freq * t.total_bytes) AS bytes
      FROM room_tables AS t
      JOIN pg_stats AS s
        ON s.schemaname = t.schema_name AND s.tablename = t.table_name
       AND s.attname = 'room_id' AND s.inherited = t.partitioned
     CROSS JOIN LATERAL unnest(s.most_common_vals::text::text[],
                               s.most_common_freqs::text::numeric[]) AS mcv(room_id, freq)
  ),
  ${TOP_ROOMS_CTE}
  SELECT hidden.tables AS hidden_tables, top.room_id, top.bytes::text AS bytes
    FROM (SELECT coalesce(json_agg(json_build_object(
                   'wanted', t.wanted, 'schema_name', t.schema_name,
                   'role_name', t.role_name, 'reason', t.statistics_hidden_by) ORDER BY t.wanted), '[]') AS tables
            FROM room_tables AS t
           WHERE t.statistics_hidden_by IS NOT NULL) AS hidden
    LEFT JOIN top ON true
   ORDER BY top.rank`;

type HiddenRow = Pick<RoomTableRow, "wanted" | "schema_name" | "role_name"> & {
  reason: HiddenTable["reason"];
};

interface PlannerRow {
  hidden_tables: HiddenRow[];
  room_id: string | null;
  bytes: string | null;
}

const plannerPass: EstimatorPass = async (trx, tables, carried, limit) => {
  const result = await trx.raw<{ rows: PlannerRow[] }>(PLANNER_SQL, [
    [...tables],
    ...topRoomsBindings(carried, limit),
  ] as Knex.RawBinding[]);
  const rooms = [];
  for (const row of result.rows) {
    if (row.room_id !== null && row.bytes !== null)
      rooms.push({ room_id: row.room_id, bytes: row.bytes });
  }
  const hidden = result.rows[0]?.hidden_tables ?? [];
  return {
    rooms,
    hiddenTables: hidden.map((row) => hiddenTable(row, row.reason)),
  };
};

/** Synapse's estimate, read from the planner statistics of each database in turn. */
export function estimateByPlanner(databases: readonly RoomDatabase[]): Promise<RoomsEstimate> {
  return estimateAcross(databases, plannerPass);
}
