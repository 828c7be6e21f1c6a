// Database failures that pass: which ones a second try can save (a hot standby cancelling a
// read to replay the primary's changes, a connection closed under a query), which ones only time
// heals (the server is down or full), and the retry that turns them into answers or into a 503
// with Retry-After. Every request of the router only reads, so running one again is harmless.

import { serviceUnavailable } from "../errors";
import type { Logger } from "../logger";

/** Why a database failure is expected to pass. */
export type TransientCauseName =
  /** A hot standby cancelled the statement (or ended the session) to replay WAL. */
  | "recovery-conflict"
  /** A serialization failure or deadlock between transactions. */
  | "transaction-conflict"
  /** The connection was closed under the query: restart, failover, pg_terminate_backend, a proxy. */
  | "connection-lost"
  /** No connection can be had now: refused, unreachable, starting up, full. */
  | "database-unavailable";

export interface TransientCause {
  name: TransientCauseName;
  /** Whether trying again at once, on a fresh connection, can succeed. */
  retry: boolean;
  /** The SQLSTATE or system error code, when the driver gave one. */
  code?: string;
  /**
   * PostgreSQL's DETAIL of a recovery conflict: which kind it was ("User was holding a relation
   * lock for too long.", ...). Server text with no query in it.
   */
  detail?: string;
}

// SQLSTATEs (PostgreSQL, Appendix A) and the retry each deserves.
const SQLSTATES: Readonly<Record<string, Omit<TransientCause, "code" | "detail">>> = {
  // serialization_failure: also what a hot standby raises when it cancels a statement, or ends
  // a session, in a recovery conflict ("... due to conflict with recovery").
  "40001": { name: "transaction-conflict", retry: true },
  "40P01": { name: "transaction-conflict", retry: true }, // deadlock_detected
  "57P01": { name: "connection-lost", retry: true }, // admin_shutdown: pg_terminate_backend, fast shutdown
  "57P02": { name: "connection-lost", retry: true }, // crash_shutdown
  "57P05": { name: "connection-lost", retry: true }, // idle_session_timeout
  "08000": { name: "connection-lost", retry: true }, // connection_exception
  "08003": { name: "connection-lost", retry: true }, // connection_does_not_exist
  "08006": { name: "connection-lost", retry: true }, // connection_failure
  "57P03": { name: "database-unavailable", retry: false }, // cannot_connect_now: starting, stopping
  "57P04": { name: "database-unavailable", retry: false }, // database_dropped (on a standby too)
  "53300": { name: "database-unavailable", retry: false }, // too_many_connections
};

// Socket errors from Node, as node-pg passes them on.
const SYSTEM_ERRORS: Readonly<Record<string, Omit<TransientCause, "code" | "detail">>> = {
  ECONNRESET: { name: "connection-lost", retry: true },
  EPIPE: { name: "connection-lost", retry: true },
  ECONNABORTED: { name: "connection-lost", retry: true },
  ECONNREFUSED: { name: "database-unavailable", retry: false },
  EHOSTUNREACH: { name: "database-unavailable", retry: false },
  ENETUNREACH: { name: "database-unavailable", retry: false },
  ETIMEDOUT: { name: "database-unavailable", retry: false },
  ENOTFOUND: { name: "database-unavailable", retry: false },
  EAI_AGAIN: { name: "database-unavailable", retry: false },
};

// node-pg's and knex's own words for the same things: these errors carry no code. Matched
// whole, against the driver's message alone (see driverMessage).
const MESSAGES: ReadonlyArray<[RegExp, Omit<TransientCause, "code" | "detail">]> = [
  [/^Connection terminated unexpectedly$/, { name: "connection-lost", retry: true }],
  [
    /^Client has encountered a connection error and is not queryable$/,
    { name: "connection-lost", retry: true },
  ],
  // node-pg's connectionTimeoutMillis, while connecting.
  [/^timeout expired$/, { name: "database-unavailable", retry: false }],
  // knex's pool: no connection within acquireConnectionTimeout (the server is unreachable,
  // or every connection is busy).
  [/^Knex: Timeout acquiring a connection\b/, { name: "database-unavailable", retry: false }],
];

/**
 * The driver's own message: knex puts the failed statement and its bound values (request text
 * among them) in front, joined by ` - `, and they must not decide anything here.
 */
function driverMessage(message: string): string {
  const joint = message.lastIndexOf(" - ");
  return joint < 0 ? message : message.slice(joint + 3);
}

/**
 * Why `error` is expected to pass, or undefined when it is not a transient database failure
 * (a bad query, a missing table, a statement timeout: trying again would fail again). Looks
 * through `cause` chains and AggregateErrors, as drivers and this package wrap errors.
 */
export function transientCause(error: unknown): TransientCause | undefined {
  for (const candidate of errorChain(error)) {
    const found = classify(candidate);
    if (found) return found;
  }
  return undefined;
}

interface ErrorLike {
  message: string;
  code?: unknown;
  detail?: unknown;
  cause?: unknown;
  errors?: unknown;
}

function classify(error: ErrorLike): TransientCause | undefined {
  const { code, detail } = error;
  if (typeof code === "string") {
    const bySqlstate = SQLSTATES[code];
    if (bySqlstate) {
      // The code is shared with serialization failures; the words tell a standby's conflict
      // apart (in English servers; others still retry, under the general name).
      const recovery = /conflict with recovery/.test(driverMessage(error.message));
      return {
        ...bySqlstate,
        ...(code === "40001" && recovery ? { name: "recovery-conflict" } : {}),
        code,
        ...(recovery && typeof detail === "string" ? { detail: detail.slice(0, 200) } : {}),
      };
    }
    const bySystem = SYSTEM_ERRORS[code];
    if (bySystem) return { ...bySystem, code };
  }
  const message = driverMessage(error.message);
  for (const [pattern, cause] of MESSAGES) {
    if (pattern.test(message)) return { ...cause };
  }
  return undefined;
}

// Duck-typed rather than `instanceof Error`: Node's socket errors may come from another realm
// (a vm context, a test runner's sandbox) than the code that catches them.
const isErrorLike = (value: unknown): value is ErrorLike =>
  typeof value === "object" &&
  value !== null &&
  typeof (value as { message?: unknown }).message === "string";

function* errorChain(error: unknown): Generator<ErrorLike> {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && isErrorLike(current); depth++) {
    yield current;
    // Node's happy-eyeballs connect fails with every address's error in one AggregateError.
    if (Array.isArray(current.errors)) {
      for (const inner of current.errors) if (isErrorLike(inner)) yield inner;
    }
    current = current.cause;
  }
}

export interface RetryOptions {
  /** Where the warnings go: one per cause, then at most one per cause every ten minutes. */
  logger: Logger;
  /** Aborted when nobody waits for the answer any more: no further try is made. */
  signal?: AbortSignal;
  /** Tries after the first one. Default 2. */
  retries?: number;
}

/** Tries after the first, unless told otherwise: enough for a conflict, short for a client. */
export const DEFAULT_RETRIES = 2;

// Before the first and second retry, give or take half (so that requests cancelled together
// do not all come back at the same instant). The wait also lets the pool see a closed
// connection's end and drop it, so the retry runs on a fresh one.
const BACKOFF_MS = [50, 200];

// How long a client should wait before asking again, by cause: a conflict or a lost connection
// passes within a second; a server that is down or full takes longer.
const RETRY_AFTER_SECONDS: Record<TransientCauseName, number> = {
  "recovery-conflict": 1,
  "transaction-conflict": 1,
  "connection-lost": 2,
  "database-unavailable": 5,
};

/**
 * Runs `work`, and again (at most `retries` times, after a short backoff) when it fails in a
 * way that another try can save. Each retry runs `work` anew, so its queries take connections
 * from the pool again: knex drops a connection whose session the server ended before handing
 * it out. When the retries are used up, or the cause only passes with time (the database is
 * unreachable), throws a 503 M_UNKNOWN with Retry-After. Any other failure is thrown as it is.
 */
export async function retryTransient<T>(work: () => Promise<T>, options: RetryOptions): Promise<T> {
  const retries = options.retries ?? DEFAULT_RETRIES;
  for (let attempt = 0; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      const cause = transientCause(error);
      if (cause === undefined) throw error;
      const again = cause.retry && attempt < retries && !options.signal?.aborted;
      warnOnce(options.logger, cause, again);
      if (!again) {
        throw serviceUnavailable(
          "The database is temporarily unavailable",
          RETRY_AFTER_SECONDS[cause.name],
        );
      }
      await pause(backoff(attempt), options.signal);
    }
  }
}

const backoff = (attempt: number): number =>
  (BACKOFF_MS[Math.min(attempt, BACKOFF_MS.length - 1)] ?? 0) * (0.5 + Math.random());

function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}

/** A cause's warning is repeated at most this often (with a count of what it left out). */
export const WARNING_INTERVAL_MS = 10 * 60_000;

// What happened, and what an operator can do about it; no query text, no parameters.
const EXPLANATION: Record<TransientCauseName, { what: string; advice?: string }> = {
  "recovery-conflict": {
    what: "a hot standby cancelled a read to replay changes from the primary",
    advice:
      "On the standby, hot_standby_feedback = on stops the primary from removing rows the " +
      "standby still reads (at the cost of some bloat on the primary), and a larger " +
      "max_standby_streaming_delay lets reads finish before replay goes on (at the cost of " +
      "replication lag).",
  },
  "transaction-conflict": {
    what: "a read failed on a serialization failure or a deadlock",
    advice:
      "On a hot standby these are recovery conflicts: see hot_standby_feedback and " +
      "max_standby_streaming_delay on the standby.",
  },
  "connection-lost": {
    what:
      "a database connection was closed under a read (server restart, failover, " +
      "pg_terminate_backend, or a proxy's idle timeout)",
  },
  "database-unavailable": {
    what:
      "no database connection could be had (server down or unreachable, starting up, or " +
      "out of connections)",
  },
};

const warned = new WeakMap<Logger, Map<TransientCauseName, { at: number; repeats: number }>>();

function warnOnce(logger: Logger, cause: TransientCause, retrying: boolean): void {
  let byCause = warned.get(logger);
  if (byCause === undefined) {
    byCause = new Map();
    warned.set(logger, byCause);
  }
  const now = Date.now();
  const last = byCause.get(cause.name);
  if (last !== undefined && now - last.at < WARNING_INTERVAL_MS) {
    last.repeats++;
    return;
  }
  byCause.set(cause.name, { at: now, repeats: 0 });
  const { what, advice } = EXPLANATION[cause.name];
  const outcome = retrying ? "retrying" : "answering 503 with Retry-After";
  try {
    logger.warn(
      {
        cause: cause.name,
        ...(cause.code === undefined ? {} : { code: cause.code }),
        ...(cause.detail === undefined ? {} : { detail: cause.detail }),
        ...(last === undefined ? {} : { repeatsSinceLastWarning: last.repeats }),
      },
      `${what} (${cause.name}); ${outcome}.${advice === undefined ? "" : ` ${advice}`}`,
    );
  } catch {
    // The host's logger is not trusted not to throw; the request goes on regardless.
  }
}
