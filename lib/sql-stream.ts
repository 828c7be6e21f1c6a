// Reads a large result in batches inside a transaction, so that it is written out as it is
// read: a server-side cursor fetched a batch at a time on PostgreSQL; on SQLite, whose driver
// cannot pause a statement, the rows read whole and let go of batch by batch.

import type { Knex } from "knex";
import type { Dialect } from "./dialect";
import { knexRunner, type SqlValue } from "./sql";

/** Rows fetched per round trip on PostgreSQL: about 100 KB of users' media rows. */
const FETCH_ROWS = 1000;

export interface RowStream<Row> {
  /** The first row, read before the stream is handed out (undefined: there are none). */
  firstRow: Row | undefined;
  /**
   * Every row, the first one included, in batches read as they are consumed (a batch, not a
   * row, per step: an await per row would cost more than the row). Iterate it once.
   */
  batches: AsyncIterable<readonly Row[]>;
}

let cursors = 0;

/**
 * Opens `statement` on the transaction `trx` and reads its first row, so that a failure of
 * the statement surfaces here, before any of the answer is written. The rest is read as it
 * is consumed; the transaction must stay open until then.
 */
export function openRowStream<Row>(
  trx: Knex.Transaction,
  dialect: Dialect,
  statement: string,
  bindings: readonly SqlValue[],
): Promise<RowStream<Row>> {
  return dialect === "postgres"
    ? openCursor<Row>(trx, statement, bindings)
    : readSqliteRows<Row>(trx, statement, bindings);
}

async function openCursor<Row>(
  trx: Knex.Transaction,
  statement: string,
  bindings: readonly SqlValue[],
): Promise<RowStream<Row>> {
  // Its statements go through knex: the request's scope refuses any once the client left,
  // and cancels the one running. The cursor closes with the transaction.
  const run = knexRunner(trx, "postgres");
  const cursor = `sas_rows_${++cursors}`;
  // A cursor is planned for its first tenth by default; every row will be read.
  await run.rows("SELECT set_config('cursor_tuple_fraction', '1', true)");
  await run.rows(`DECLARE ${cursor} NO SCROLL CURSOR FOR ${statement}`, bindings);
  const fetch = (): Promise<Row[]> => run.rows<Row>(`FETCH ${FETCH_ROWS} FROM ${cursor}`);
  let batch = await fetch();
  return {
    firstRow: batch[0],
    batches: (async function* () {
      for (;;) {
        yield batch;
        if (batch.length < FETCH_ROWS) return;
        batch = await fetch();
      }
    })(),
  };
}

/**
 * node-sqlite3 cannot pause a statement. Its row callback (`each`) steps to the end on its own
 * thread and hands the rows over in one burst (measured on 300,000 users: all of them queued
 * before the first was written; peak RSS only 12% below reading them whole), and one row per
 * call (`get`) is about 6x slower (300,000 rows in 11.7 s rather than 1.9 s). So the rows are
 * read whole, then let go of batch by batch as they are written; admission bounds how many
 * such pages are held at once (one, on the CLI's single SQLite connection).
 */
async function readSqliteRows<Row>(
  trx: Knex.Transaction,
  statement: string,
  bindings: readonly SqlValue[],
): Promise<RowStream<Row>> {
  const rows: Array<Row | undefined> = await knexRunner(trx, "sqlite").rows<Row>(
    statement,
    bindings,
  );
  return {
    firstRow: rows[0],
    batches: (async function* () {
      for (let start = 0; start < rows.length; start += FETCH_ROWS) {
        const end = Math.min(rows.length, start + FETCH_ROWS);
        const batch = rows.slice(start, end) as Row[];
        // Written rows are garbage as soon as the batch is: the page shrinks as it goes out.
        rows.fill(undefined, start, end);
        yield batch;
      }
    })(),
  };
}
