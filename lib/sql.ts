// How the package runs SQL on either driver: rows from a raw statement, counts as JSON
// integers, and the transactions the summary needs (PostgreSQL, or SQLite BEGIN IMMEDIATE).

import type { Knex } from "knex";
import type { Dialect } from "./dialect";

/** A bound value: PostgreSQL also takes arrays (for `= ANY(?)`). */
export type SqlValue = string | number | boolean | null | readonly string[];

export interface SqlRunner {
  readonly dialect: Dialect;
  rows<Row>(statement: string, bindings?: readonly SqlValue[]): Promise<Row[]>;
}

/** Runs statements on a knex instance or transaction, through its pool. */
export function knexRunner(db: Knex, dialect: Dialect): SqlRunner {
  return {
    dialect,
    async rows<Row>(statement: string, bindings: readonly SqlValue[] = []): Promise<Row[]> {
      const result: unknown = await db.raw(statement, bindings as Knex.RawBinding[]);
      // node-pg answers a result object; the SQLite drivers answer the rows themselves.
      return dialect === "postgres" ? (result as { rows: Row[] }).rows : (result as Row[]);
    },
  };
}

/** `work` inside one PostgreSQL transaction: committed when it resolves, rolled back if not. */
export function inPostgresTransaction<T>(
  db: Knex,
  work: (run: SqlRunner) => Promise<T>,
): Promise<T> {
  return db.transaction((trx) => work(knexRunner(trx, "postgres")));
}

/**
 * `work` inside one SQLite transaction begun with BEGIN IMMEDIATE, on one connection held for
 * the whole of it. knex begins SQLite transactions DEFERRED: the write lock is then taken at
 * the first write, and in WAL mode a writer that committed after our first read makes that
 * upgrade fail at once with SQLITE_BUSY, whatever busy_timeout says. IMMEDIATE waits for the
 * lock up front (busy_timeout applies) and then holds every other writer off until COMMIT.
 */
export async function inSqliteImmediateTransaction<T>(
  db: Knex,
  work: (run: SqlRunner) => Promise<T>,
): Promise<T> {
  const connection: unknown = await db.client.acquireConnection();
  const run: SqlRunner = {
    dialect: "sqlite",
    async rows<Row>(statement: string, bindings: readonly SqlValue[] = []): Promise<Row[]> {
      return (await db
        .raw(statement, bindings as Knex.RawBinding[])
        .connection(connection)) as Row[];
    },
  };
  try {
    await run.rows("BEGIN IMMEDIATE");
    try {
      const result = await work(run);
      await run.rows("COMMIT");
      return result;
    } catch (error) {
      // A failed COMMIT leaves the transaction open, a failed statement may have ended it:
      // roll back either way, and report the original error.
      await run.rows("ROLLBACK").catch(() => undefined);
      throw error;
    }
  } finally {
    await db.client.releaseConnection(connection);
  }
}

/** Whether `db` is a transaction (knex marks the transactor it hands out). */
export const isTransaction = (db: Knex): db is Knex.Transaction =>
  (db as { isTransaction?: boolean }).isTransaction === true;

/**
 * `work` in one read-only transaction whose statements all see one snapshot (PostgreSQL:
 * REPEATABLE READ, READ ONLY; SQLite: one read transaction). A transaction given as `db` is
 * reused as it is: the request's own is already such a snapshot.
 */
export function inReadSnapshot<T>(
  db: Knex,
  dialect: Dialect,
  work: (trx: Knex.Transaction) => Promise<T>,
): Promise<T> {
  if (isTransaction(db)) return work(db);
  return db.transaction(
    work,
    dialect === "postgres" ? { isolationLevel: "repeatable read", readOnly: true } : undefined,
  );
}

/**
 * `work` inside a savepoint when `db` is a transaction, so that its failure leaves the
 * transaction usable: PostgreSQL refuses every later statement of a transaction in which one
 * failed. Outside a transaction each statement stands alone and needs none.
 */
export async function recoverably<T>(db: Knex, work: () => Promise<T>): Promise<T> {
  if (!isTransaction(db)) return work();
  await db.raw("SAVEPOINT sas_recoverable");
  try {
    const result = await work();
    await db.raw("RELEASE SAVEPOINT sas_recoverable");
    return result;
  } catch (error) {
    await db.raw("ROLLBACK TO SAVEPOINT sas_recoverable").catch(() => undefined);
    throw error;
  }
}

// Reads that run on a transaction's connection through the driver itself, outside knex.
const driverReads = new WeakMap<Knex.Transaction, Set<Promise<void>>>();

/**
 * Registers a read running on `trx`'s connection through the driver (a SQLite row stream):
 * the transaction must not end while it runs (SQLite refuses to roll back under a statement).
 */
export function trackDriverRead(trx: Knex.Transaction, read: Promise<unknown>): void {
  let reads = driverReads.get(trx);
  if (reads === undefined) {
    reads = new Set();
    driverReads.set(trx, reads);
  }
  const settled = read.then(
    () => undefined,
    () => undefined,
  );
  reads.add(settled);
  void settled.then(() => reads.delete(settled));
}

/** The driver reads still running on `trx`, each settling (never rejecting) when it ends. */
export function pendingDriverReads(trx: Knex.Transaction): Promise<void>[] {
  return [...(driverReads.get(trx) ?? [])];
}

/**
 * A count or byte total as a JSON integer. node-pg returns COUNT and SUM (bigint, numeric)
 * as strings so as not to lose precision; a value beyond 2^53 is reported rather than
 * silently rounded.
 */
export function toInteger(value: number | string | bigint | null | undefined): number {
  if (value === null || value === undefined) return 0;
  const number = Number(value);
  if (!Number.isSafeInteger(number)) {
    throw new RangeError(`database returned ${typeof value} that is not a safe integer`);
  }
  return number;
}
