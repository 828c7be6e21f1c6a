// Compares each table of the storage part with a fresh aggregate of the media tables that
// feed it, in one statement per table: the rows the summary lacks or has wrong (as they
// should be) and the rows it has that it should not (as they are), the first few in full.

import type { SqlRunner } from "../sql";
import { STORAGE_TABLES } from "./storage-names";
import {
  aggregateOf,
  measuresOf,
  SLOT_COLUMN,
  storageSources,
  type StorageTarget,
} from "./storage-targets";

export interface StorageDriftRow {
  table: string;
  /** `expected`: the row as the media tables say, missing or different in the summary; `actual`: the summary's row, wrong or extra. */
  side: "expected" | "actual";
  row: Record<string, string | number>;
}

const TEXT_COLUMNS = new Set(["source", "media_type", "media_origin"]);

/** Rows of each storage summary table that differ from the media tables, at most `limit` listed. */
export async function findStorageDrift(
  run: SqlRunner,
  prefix: string,
  limit: number,
): Promise<{ drift: StorageDriftRow[]; driftedRows: number }> {
  const sources = storageSources(run.dialect);
  const drift: StorageDriftRow[] = [];
  let driftedRows = 0;
  for (const table of STORAGE_TABLES) {
    const feeds = sources.flatMap((source) =>
      source.targets
        .filter((target) => target.table === table)
        .map((target) => ({ source: source.table, target })),
    );
    const first = feeds[0];
    if (first === undefined) continue;
    // A group's figures are the sum of its rows over the writers' slots.
    const unslotted = (target: StorageTarget): StorageTarget => ({
      ...target,
      keys: target.keys.filter((key) => key.column !== SLOT_COLUMN),
    });
    const group = unslotted(first.target).keys.map((key) => key.column);
    const measures = measuresOf(first.target);
    const fresh = feeds
      .map(({ source, target }) => aggregateOf(unslotted(target), `${prefix}${source}`))
      .join("\n UNION ALL\n ");
    const held = `SELECT ${[...group, ...measures.map((column) => `SUM(${column}) AS ${column}`)].join(", ")}
         FROM ${prefix}${table} GROUP BY ${group.join(", ")}
       HAVING ${measures.map((column) => `SUM(${column}) <> 0`).join(" OR ")}`;
    const rows = await run.rows<
      Record<string, string | number> & { side: string; drifted: string | number }
    >(
      `WITH fresh AS (${fresh}),
            held AS (${held}),
            drift AS (
              SELECT 'expected' AS side, d.* FROM (SELECT * FROM fresh EXCEPT SELECT * FROM held) AS d
              UNION ALL
              SELECT 'actual' AS side, d.* FROM (SELECT * FROM held EXCEPT SELECT * FROM fresh) AS d
            )
       SELECT drift.*, (SELECT COUNT(*) FROM drift) AS drifted FROM drift LIMIT ?`,
      [limit],
    );
    driftedRows += Number(rows[0]?.drifted ?? 0);
    for (const { side, drifted: _count, ...row } of rows) {
      if (drift.length >= limit) break;
      const values: Record<string, string | number> = {};
      for (const [column, value] of Object.entries(row)) {
        values[column] = TEXT_COLUMNS.has(column) ? value : Number(value);
      }
      drift.push({ table, side: side === "expected" ? "expected" : "actual", row: values });
    }
  }
  return { drift, driftedRows };
}
