// Statements that change many media at once, generated inside the database as an import runs
// them, and what one statement wrote to the summary on PostgreSQL, counted in its own
// transaction's statistics: each insert, update (a new row version) and delete of a summary row.

import type { Knex } from "knex";
import { MEDIA_USAGE_SUMMARY_TABLE } from "../../lib";
import type { DatabaseKind } from "../helpers/databases";

export interface Statement {
  sql: string;
  bindings: Array<string | number>;
}

/**
 * One INSERT ... SELECT of `rows` media: ids `<prefix><i>` for i from 1, every seventh of
 * unknown length, the rest `i` bytes long; `userOf` is an SQL expression of `i`.
 */
export function bulkInsert(
  kind: DatabaseKind,
  prefix: string,
  rows: number,
  userOf: string,
): Statement {
  const select = `SELECT CAST(? AS TEXT) || i, CASE WHEN i % 7 = 0 THEN NULL ELSE i END, 1, ${userOf}`;
  const into = "INSERT INTO local_media_repository (media_id, media_length, created_ts, user_id)";
  return kind === "postgres"
    ? { sql: `${into} ${select} FROM generate_series(1, ?) AS g(i)`, bindings: [prefix, rows] }
    : {
        sql: `WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g WHERE i < ?) ${into} ${select} FROM g`,
        bindings: [rows, prefix],
      };
}

export interface SummaryWrites {
  inserted: number;
  updated: number;
  deleted: number;
}

/** Rows of the summary the transaction `trx` inserted, updated and deleted so far. */
async function summaryWritesSoFar(trx: Knex.Transaction): Promise<SummaryWrites> {
  const { rows } = (await trx.raw(
    `SELECT n_tup_ins AS inserted, n_tup_upd AS updated, n_tup_del AS deleted
       FROM pg_stat_xact_user_tables WHERE relname = ?`,
    [MEDIA_USAGE_SUMMARY_TABLE],
  )) as { rows: Array<Record<keyof SummaryWrites, string>> };
  const [row] = rows;
  return {
    inserted: Number(row?.inserted),
    updated: Number(row?.updated),
    deleted: Number(row?.deleted),
  };
}

/** Runs `statement` in a transaction of its own on PostgreSQL, and answers what it wrote to the summary. */
export async function summaryWritesOf(
  db: Knex,
  statement: Statement | string,
): Promise<SummaryWrites> {
  const { sql, bindings } =
    typeof statement === "string" ? { sql: statement, bindings: [] } : statement;
  return db.transaction(async (trx) => {
    const before = await summaryWritesSoFar(trx);
    await trx.raw(sql, bindings);
    const after = await summaryWritesSoFar(trx);
    return {
      inserted: after.inserted - before.inserted,
      updated: after.updated - before.updated,
      deleted: after.deleted - before.deleted,
    };
  });
}
