// One request's database work: per database, one admission slot, one transaction on one
// connection (on PostgreSQL one REPEATABLE READ, READ ONLY snapshot), and, should the client
// leave first, its running statement cancelled on the server and no further one begun.
//
// A scope is made to be run again: everything it holds is its own and is given back when it
// ends, so a retry of a transient failure is another scope, on a fresh connection.

import type { Knex } from "knex";
import { detectDialect, type Dialect } from "../dialect";
import { ClientGoneError, serviceUnavailable } from "../errors";
import type { Logger } from "../logger";
import { describeError } from "../logger";
import { pendingDriverReads } from "../sql";
import type { Admission, ReleaseSlot } from "./admission";

export interface RequestScope {
  /**
   * The request's transaction on `db`, begun on first use once the request is admitted to
   * `db` (which may refuse it with a 503). The same transaction for every call with `db`.
   */
  transaction(db: Knex): Promise<Knex.Transaction>;
}

export interface ScopeOptions {
  /** Aborted when the client leaves: the scope's statements stop. */
  signal: AbortSignal;
  /** The admission of each database the request may use. */
  admissionFor(db: Knex): Admission;
  /** Where a cancellation that failed is reported. */
  logger: Logger;
}

/**
 * Runs `work` with a fresh scope and ends the scope once `work` settles: every transaction is
 * committed (or rolled back if `work` failed) and its connection and slot given back.
 */
export async function inRequestScope<T>(
  options: ScopeOptions,
  work: (scope: RequestScope) => Promise<T>,
): Promise<T> {
  const opening = new Map<Knex, Promise<ScopedTransaction>>();
  const scope: RequestScope = {
    async transaction(db) {
      let scoped = opening.get(db);
      if (scoped === undefined) {
        scoped = ScopedTransaction.open(db, options);
        opening.set(db, scoped);
      }
      return (await scoped).trx;
    },
  };
  let outcome: { ok: true; value: T } | { ok: false; error: unknown };
  try {
    outcome = { ok: true, value: await work(scope) };
  } catch (error) {
    outcome = { ok: false, error };
  }
  const opened = await Promise.allSettled(opening.values());
  await Promise.all(
    opened.map((result) =>
      result.status === "fulfilled" ? result.value.end(outcome.ok) : undefined,
    ),
  );
  if (!outcome.ok) {
    throw (await whyTransactionEnded(outcome.error, opened)) ?? outcome.error;
  }
  return outcome.value;
}

/**
 * knex completes a transaction whose own statement (BEGIN, a savepoint) failed, and answers
 * every later statement only "Transaction query already complete". When that is the request's
 * failure, the failure that completed the transaction is the one to act on: a session the
 * server ended, say, is worth a retry.
 */
async function whyTransactionEnded(
  error: unknown,
  opened: ReadonlyArray<PromiseSettledResult<ScopedTransaction>>,
): Promise<unknown> {
  if (!(error instanceof Error) || !/^Transaction query already complete\b/.test(error.message)) {
    return undefined;
  }
  for (const result of opened) {
    if (result.status !== "fulfilled" || !result.value.trx.isCompleted()) continue;
    const ended = await result.value.trx.executionPromise.then(
      () => undefined,
      (reason: unknown) => reason,
    );
    if (ended !== undefined) return ended;
  }
  return undefined;
}

/** A driver connection as far as cancelling goes: node-pg's client, or node-sqlite3's Database. */
interface DriverConnection {
  /** node-sqlite3: stops the statements running on this connection. */
  interrupt?: () => void;
  /** knex: a connection so marked is destroyed, never reused, once released. */
  __knex__disposed?: unknown;
}

class ScopedTransaction {
  private cancelling: Promise<void> | undefined;
  private readonly onAbort = (): void => this.stop();

  private constructor(
    private readonly db: Knex,
    private readonly dialect: Dialect,
    readonly trx: Knex.Transaction,
    private readonly connection: DriverConnection,
    private readonly release: ReleaseSlot,
    private readonly options: ScopeOptions,
  ) {}

  static async open(db: Knex, options: ScopeOptions): Promise<ScopedTransaction> {
    const { signal } = options;
    const dialect = detectDialect(db);
    if (dialect === undefined) throw new TypeError("the request scope needs PostgreSQL or SQLite");
    if (signal.aborted) throw new ClientGoneError();
    const release = await options.admissionFor(db).enter(signal);
    let trx: Knex.Transaction | undefined;
    try {
      trx = await db
        .transaction(
          dialect === "postgres" ? { isolationLevel: "repeatable read", readOnly: true } : {},
        )
        .catch((error: unknown) => {
          throw isAcquireTimeout(error)
            ? serviceUnavailable("The database has no free connection; try again later", 5)
            : error;
        });
      // Inside a transaction knex hands out the transaction's own connection.
      const connection = (await trx.client.acquireConnection()) as DriverConnection;
      const scoped = new ScopedTransaction(db, dialect, trx, connection, release, options);
      // knex emits `query` on the transaction as it sends each statement, synchronously: a
      // throw there refuses the statement before it reaches the database.
      trx.on("query", scoped.refuseOnceAborted);
      signal.addEventListener("abort", scoped.onAbort, { once: true });
      if (signal.aborted) scoped.stop();
      return scoped;
    } catch (error) {
      if (trx !== undefined) await trx.rollback().catch(() => undefined);
      release();
      throw error;
    }
  }

  /** Gives everything back: commits (or rolls back), then frees the connection and the slot. */
  async end(ok: boolean): Promise<void> {
    this.options.signal.removeEventListener("abort", this.onAbort);
    try {
      const reads = pendingDriverReads(this.trx);
      // Work that ended with reads still running on the connection has no use for them.
      if (reads.length > 0) this.stop();
      await Promise.all(reads);
      // The connection goes back to the pool only once a cancellation has landed, so that it
      // cannot cancel the statement of whoever takes the connection next.
      await this.cancelling;
      this.trx.removeListener("query", this.refuseOnceAborted);
      if (ok && !this.options.signal.aborted) await this.trx.commit();
      else await this.trx.rollback();
    } catch {
      // Read-only: nothing is lost. knex has given the connection back (or destroyed it).
    } finally {
      this.release();
    }
  }

  private readonly refuseOnceAborted = (): void => {
    if (this.options.signal.aborted) throw new ClientGoneError();
  };

  /** Stops the statement running on the connection, if any, on the server. */
  private stop(): void {
    if (this.cancelling !== undefined) return;
    if (this.dialect === "sqlite") {
      this.connection.interrupt?.();
      this.cancelling = Promise.resolve();
      return;
    }
    // knex sends pg_cancel_backend from a connection of its own, outside the pool: the pool
    // may be full.
    this.cancelling = (this.db.client as CancellingClient)
      .cancelQuery(this.connection)
      .then(() => undefined)
      .catch((error: unknown) => {
        // The statement may still be running: the connection must not serve anyone else.
        this.connection.__knex__disposed = error;
        try {
          this.options.logger.warn(
            describeError(error),
            "could not cancel the statement of a request whose client left; its connection will be closed",
          );
        } catch {
          // The host's logger failing is no reason to fail the request's clean-up.
        }
      });
  }
}

interface CancellingClient {
  cancelQuery(connection: unknown): Promise<unknown>;
}

function isAcquireTimeout(error: unknown): boolean {
  return error instanceof Error && error.name === "KnexTimeoutError";
}
