// Reads a large result in batches inside a transaction, so that it is written out as it is
// read: a server-side cursor fetched a batch at a time on PostgreSQL, the driver's row
// callback on SQLite.

import type { Knex } from "knex";
import type { Dialect } from "./dialect";
import { ClientGoneError } from "./errors";
import { knexRunner, trackDriverRead, type SqlValue } from "./sql";

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
 * is consumed; the transaction must stay open until then. Once `signal` aborts, nothing more
 * is read (the request's scope stops what runs).
 */
export function openRowStream<Row>(
  trx: Knex.Transaction,
  dialect: Dialect,
  statement: string,
  bindings: readonly SqlValue[],
  signal: AbortSignal,
): Promise<RowStream<Row>> {
  return dialect === "postgres"
    ? openCursor<Row>(trx, statement, bindings)
    : openSqliteRows<Row>(trx, statement, bindings, signal);
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

/** node-sqlite3's Database, as far as reading rows goes. */
interface SqliteDatabase {
  each(
    sql: string,
    params: readonly SqlValue[],
    onRow: (error: Error | null, row: unknown) => void,
    onComplete: (error: Error | null) => void,
  ): void;
  interrupt(): void;
}

/**
 * node-sqlite3 cannot pause a statement: its row callback steps to the end on the driver's
 * thread and hands the rows over in bursts, and one row per call is about 6x slower (300,000
 * rows in 11.7 s rather than 1.9 s). So a client slower than SQLite leaves rows queued here,
 * at worst a page per request holding a slot, which admission bounds. Still, measured on
 * 300,000 users, the row callback peaks at half the memory of reading them whole (+133 MB
 * RSS against +257 MB: the driver then holds every row natively before converting any).
 */
async function openSqliteRows<Row>(
  trx: Knex.Transaction,
  statement: string,
  bindings: readonly SqlValue[],
  signal: AbortSignal,
): Promise<RowStream<Row>> {
  // Inside a transaction knex hands out the transaction's own connection.
  const connection = (await trx.client.acquireConnection()) as SqliteDatabase;
  // Read outside knex, where the scope's refusal of new statements cannot see it: look here.
  if (signal.aborted) throw new ClientGoneError();
  let queue: Row[] = [];
  let done = false;
  let failure: Error | undefined;
  let wake: (() => void) | undefined;
  const notify = (): void => {
    const waiting = wake;
    wake = undefined;
    waiting?.();
  };
  const finished = new Promise<void>((resolve) => {
    connection.each(
      statement,
      bindings,
      (error, row) => {
        if (error) failure ??= error;
        else queue.push(row as Row);
        notify();
      },
      (error) => {
        if (error) failure ??= error;
        done = true;
        notify();
        resolve();
      },
    );
  });
  // The transaction must not end under a running statement: SQLite would refuse the ROLLBACK.
  trackDriverRead(trx, finished);
  const more = (): Promise<void> => new Promise((resolve) => (wake = resolve));
  while (queue.length === 0 && !done) await more();
  if (failure) throw failure;
  return {
    firstRow: queue[0],
    batches: (async function* () {
      try {
        for (;;) {
          if (queue.length > 0) {
            const batch = queue;
            queue = [];
            yield batch;
          } else if (done) {
            if (failure) throw failure;
            return;
          } else {
            await more();
          }
        }
      } finally {
        // Left early: stop the statement rather than read rows no one will see.
        if (!done) connection.interrupt();
        await finished;
      }
    })(),
  };
}
