// The `sample` estimate of the largest rooms: a small page sample of each room table, each row
// weighted by its bytes, each room's share of the sample scaled to the table's size on disk.
// It reads the rows as they are now, so it is right straight after a purge or a flood of
// events, when the planner statistics still describe the table as it was at the last ANALYZE.

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

/** About how many rows each table's sample holds, whatever the table's size. */
export const SAMPLE_TARGET_ROWS = 30_000;

// A constant seed (REPEATABLE) picks the same pages on every request, so a page refresh shows
// the same numbers until the data changes. Each table adds its position, so that tables
// written in the same order are not all sampled at the same block numbers.
const SAMPLE_SEED = 1_000;

// A heap tuple's header, aligned; what pg_column_size cannot see of a row.
const ROW_HEADER_BYTES = 24;

// For a table never vacuumed nor analysed (reltuples -1), rows are guessed from the heap's
// size at this many bytes per row: small, so such a table up to 3 MB is read whole, and a
// larger one (rare: autovacuum analyses a growing table soon) is sampled more, not less.
const FALLBACK_BYTES_PER_ROW = 100;

export interface SampleSettings {
  /** The statement timeout of each statement of the estimate, in milliseconds. */
  statementTimeoutMs: number;
  /** Rows per table to aim for; SAMPLE_TARGET_ROWS unless a test wants real sampling on little data. */
  targetRows?: number;
}

/** The sample estimate took longer than the statement timeout allows. */
export class SampleTimeoutError extends Error {
  constructor(readonly timeoutMs: number) {
    super(`the sample estimate exceeded its statement timeout of ${timeoutMs} ms`);
    this.name = "SampleTimeoutError";
  }
}

export async function estimateBySample(
  databases: readonly RoomDatabase[],
  settings: SampleSettings,
): Promise<RoomsEstimate> {
  try {
    return await estimateAcross(databases, samplePass(settings));
  } catch (error) {
    if (isStatementTimeout(error)) throw new SampleTimeoutError(settings.statementTimeoutMs);
    throw error;
  }
}

function samplePass(settings: SampleSettings): EstimatorPass {
  const targetRows = settings.targetRows ?? SAMPLE_TARGET_ROWS;
  return async (trx, tables, carried, limit) => {
    // SET LOCAL, spelled as a function so that the value is a bound parameter; it ends with
    // the transaction and so never leaks into the host app's pooled connection.
    await trx.raw("SELECT set_config('statement_timeout', ?, true)", [
      String(settings.statementTimeoutMs),
    ]);
    const catalogue = await trx.raw<{ rows: RoomTableRow[] }>(ROOM_TABLES_SQL, [[...tables]]);
    const found = new Map(catalogue.rows.map((row) => [row.wanted, row]));

    const samples: string[] = [];
    const sampleBindings: Knex.RawBinding[] = [];
    const contributions: string[] = [];
    const contributionBindings: Knex.RawBinding[] = [];
    const hiddenTables: HiddenTable[] = [];
    let eventsSample: string | undefined;

    for (const [position, table] of tables.entries()) {
      const row = found.get(table);
      // event_edges is apportioned below: its room_id is NULL on servers since Synapse 1.62.
      if (row === undefined || table === "event_edges" || !row.has_room_id) continue;
      if (row.rows_hidden_by !== null) {
        hiddenTables.push(hiddenTable(row, row.rows_hidden_by));
        continue;
      }
      if (BigInt(row.total_bytes) === 0n) continue;
      const name = `sample_${position}`;
      samples.push(sampleCte(name, row));
      sampleBindings.push(samplePercent(row, targetRows), SAMPLE_SEED + position);
      // Rows without a room count in the total: their bytes belong to no room.
      contributions.push(
        `SELECT room_id, trunc(bytes * ?::numeric / nullif(total, 0)) AS bytes
           FROM (SELECT room_id, bytes, sum(bytes) OVER () AS total FROM ${name}) AS shares
          WHERE room_id IS NOT NULL`,
      );
      contributionBindings.push(row.total_bytes);
      if (table === "events") eventsSample = name;
    }

    // An edge row is the same few bytes for any event, so event_edges is shared out by the
    // rooms' shares of the events sample's rows, not of its bytes.
    const edges = found.get("event_edges");
    if (tables.includes("event_edges") && edges !== undefined && eventsSample !== undefined) {
      contributions.push(
        `SELECT room_id, trunc(row_count * ?::numeric / nullif(total, 0)) AS bytes
           FROM (SELECT room_id, row_count, sum(row_count) OVER () AS total
                   FROM ${eventsSample}) AS shares
          WHERE room_id IS NOT NULL`,
      );
      contributionBindings.push(edges.total_bytes);
    }
    if (contributions.length === 0) {
      contributions.push("SELECT NULL::text AS room_id, NULL::numeric AS bytes WHERE false");
    }

    const statement = `
      WITH ${[...samples, `contributions AS (${contributions.join("\nUNION ALL\n")})`, TOP_ROOMS_CTE].join(",\n")}
      SELECT top.room_id, top.bytes::text AS bytes FROM top ORDER BY top.rank`;
    const result = await trx.raw<{ rows: Array<{ room_id: string; bytes: string }> }>(statement, [
      ...sampleBindings,
      ...contributionBindings,
      ...topRoomsBindings(carried, limit),
    ]);
    return { rooms: result.rows, hiddenTables };
  };
}

/**
 * A CTE sampling whole pages of one table (TABLESAMPLE SYSTEM reads only the chosen pages),
 * with each row's bytes per room: the header plus pg_column_size of each column, which reads
 * a TOASTed value's pointer and stored size, never the value itself. Two bindings: the
 * percentage of pages and the seed.
 */
function sampleCte(name: string, row: RoomTableRow): string {
  const rowBytes = [
    String(ROW_HEADER_BYTES),
    ...row.columns.map((column) => `coalesce(pg_column_size(t.${quoteIdentifier(column)}), 0)`),
  ].join(" + ");
  return `${name} AS (
    SELECT t.room_id::text AS room_id, count(*) AS row_count, sum(${rowBytes}) AS bytes
      FROM ${quoteIdentifier(row.schema_name)}.${quoteIdentifier(row.table_name)} AS t
           TABLESAMPLE SYSTEM (?) REPEATABLE (?)
     GROUP BY t.room_id
  )`;
}

/**
 * The percentage of pages that holds about `targetRows` rows. Rows are counted the way the
 * planner counts them: the density of the last VACUUM or ANALYZE applied to the heap's size
 * now, so a table that has grown since (a flood of events) is not oversampled.
 */
export function samplePercent(row: RoomTableRow, targetRows: number): number {
  const heapBytes = Number(row.heap_bytes);
  const rows =
    row.reltuples >= 0 && row.relpages > 0
      ? (row.reltuples / row.relpages) * (heapBytes / row.block_size)
      : heapBytes / FALLBACK_BYTES_PER_ROW;
  return rows <= targetRows ? 100 : (100 * targetRows) / rows;
}

/**
 * A PostgreSQL identifier in double quotes, embedded quotes doubled: the standard quoting,
 * safe for any name. Only schema and column names read from the catalogue go through it.
 */
export function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

// query_canceled is also what pg_cancel_backend raises; only the timeout is ours to explain.
function isStatementTimeout(error: unknown): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  return code === "57014" && typeof message === "string" && message.includes("statement timeout");
}
