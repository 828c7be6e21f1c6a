// The per-request execution layer on its own: admission to a database (slots, a short queue,
// 503 with Retry-After), and the request's scope (one transaction per database, its statement
// stopped on the server when the client leaves, nothing begun after).

import knexFactory from "knex";
import { openPostgres, openSqlite } from "../../fixtures";
import { ClientGoneError, MatrixError } from "../../lib/errors";
import { Admission, type AdmissionLimits } from "../../lib/execution/admission";
import { admissionLimits, DEFAULT_QUEUE_TIMEOUT_MS } from "../../lib/execution/limits";
import { inRequestScope, type ScopeOptions } from "../../lib/execution/scope";
import { silentLogger } from "../../lib/logger";
import { useTestDatabase } from "../helpers/databases";
import { poolIdle } from "./http-client";
import { useRouterPool } from "./router-pool";

const wait = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms));

function scopeOptions(signal: AbortSignal, limits?: AdmissionLimits): ScopeOptions {
  const admission = new Admission(
    limits ?? { maxConcurrent: 4, maxQueued: 4, queueTimeoutMs: 5000 },
  );
  return { signal, admissionFor: () => admission, logger: silentLogger };
}

const never = new AbortController().signal;

describe("admission to a database", () => {
  test("up to maxConcurrent enter at once; the next waits and enters when a slot is given back", async () => {
    const admission = new Admission({ maxConcurrent: 2, maxQueued: 1, queueTimeoutMs: 5000 });
    const first = await admission.enter(never);
    await admission.enter(never);
    let entered = false;
    const third = admission.enter(never).then((release) => {
      entered = true;
      return release;
    });
    await wait(20);
    expect(entered).toBe(false);
    expect(admission.load).toEqual({ running: 2, queued: 1 });
    first();
    first(); // a second call gives back nothing more
    (await third)();
    expect(admission.load).toEqual({ running: 1, queued: 0 });
  });

  test("a full queue is answered 503 M_UNKNOWN with Retry-After at once", async () => {
    const admission = new Admission({ maxConcurrent: 1, maxQueued: 1, queueTimeoutMs: 5000 });
    const release = await admission.enter(never);
    const queued = admission.enter(never);
    const refused = await admission.enter(never).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(MatrixError);
    const matrixError = refused as MatrixError;
    expect([matrixError.status, matrixError.errcode]).toEqual([503, "M_UNKNOWN"]);
    expect(Number(matrixError.headers["Retry-After"])).toBeGreaterThanOrEqual(1);
    release();
    (await queued)();
  });

  test("a request that waited longer than queueTimeoutMs is answered 503 with Retry-After", async () => {
    const admission = new Admission({ maxConcurrent: 1, maxQueued: 4, queueTimeoutMs: 100 });
    const release = await admission.enter(never);
    const started = Date.now();
    const refused = await admission.enter(never).catch((error: unknown) => error);
    expect(Date.now() - started).toBeGreaterThanOrEqual(90);
    expect((refused as MatrixError).status).toBe(503);
    expect((refused as MatrixError).headers["Retry-After"]).toMatch(/^[1-9]\d*$/);
    expect(admission.load).toEqual({ running: 1, queued: 0 });
    release();
  });

  test("a waiting request whose client leaves gives up its place in the queue", async () => {
    const admission = new Admission({ maxConcurrent: 1, maxQueued: 4, queueTimeoutMs: 5000 });
    const release = await admission.enter(never);
    const left = new AbortController();
    const waiting = admission.enter(left.signal);
    const behind = admission.enter(never);
    left.abort();
    await expect(waiting).rejects.toBeInstanceOf(ClientGoneError);
    expect(admission.load).toEqual({ running: 1, queued: 1 });
    release();
    (await behind)();
    expect(admission.load).toEqual({ running: 0, queued: 0 });
  });

  test("with no queue, a request beyond the slots is refused at once", async () => {
    const admission = new Admission({ maxConcurrent: 1, maxQueued: 0, queueTimeoutMs: 5000 });
    const release = await admission.enter(never);
    await expect(admission.enter(never)).rejects.toMatchObject({ status: 503 });
    release();
  });

  test("default limits leave two connections of the pool to token lookups, and queue twice as many", async () => {
    const unset = {
      maxConcurrentQueries: undefined,
      maxQueuedQueries: undefined,
      queueTimeoutMs: DEFAULT_QUEUE_TIMEOUT_MS,
    };
    const ten = openPostgres("postgres://nobody@127.0.0.1:1/none", { min: 0, max: 10 });
    const three = openPostgres("postgres://nobody@127.0.0.1:1/none", { min: 0, max: 3 });
    const sqlite = openSqlite(":memory:");
    try {
      expect(admissionLimits(ten, unset)).toEqual({
        maxConcurrent: 8,
        maxQueued: 16,
        queueTimeoutMs: 10_000,
      });
      expect(admissionLimits(three, unset)).toMatchObject({ maxConcurrent: 1, maxQueued: 4 });
      expect(admissionLimits(sqlite, unset)).toMatchObject({ maxConcurrent: 1, maxQueued: 4 });
      expect(
        admissionLimits(ten, { maxConcurrentQueries: 3, maxQueuedQueries: 0, queueTimeoutMs: 50 }),
      ).toEqual({ maxConcurrent: 3, maxQueued: 0, queueTimeoutMs: 50 });
    } finally {
      await Promise.all([ten.destroy(), three.destroy(), sqlite.destroy()]);
    }
  });
});

describe("the request scope on PostgreSQL", () => {
  const db = useTestDatabase("postgres");
  const pool = useRouterPool(db, "sas-request-scope", 4);

  test("the request's statements share one READ ONLY, REPEATABLE READ transaction, per database", async () => {
    const settings = await inRequestScope(scopeOptions(never), async (scope) => {
      const trx = await scope.transaction(pool.knex);
      expect(await scope.transaction(pool.knex)).toBe(trx);
      const result = await trx.raw<{
        rows: Array<{ isolation: string; readOnly: string; backends: string[] }>;
      }>(
        "SELECT current_setting('transaction_isolation') AS isolation, current_setting('transaction_read_only') AS \"readOnly\"",
      );
      return result.rows[0];
    });
    expect(settings).toEqual({ isolation: "repeatable read", readOnly: "on" });
    expect(poolIdle(pool.knex)).toBe(true);
  });

  test("a statement running when the client leaves is cancelled on the server", async () => {
    const left = new AbortController();
    const started = Date.now();
    const outcome = inRequestScope(scopeOptions(left.signal), async (scope) => {
      const trx = await scope.transaction(pool.knex);
      setTimeout(() => left.abort(), 200);
      await trx.raw("SELECT pg_sleep(30)");
    });
    await expect(outcome).rejects.toThrow(/canceling statement due to user request/);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(await pool.sessions("active")).toBe(0);
    expect(poolIdle(pool.knex)).toBe(true);
  });

  test("no statement is begun for a request whose client has left", async () => {
    const left = new AbortController();
    const answered: string[] = [];
    const record = (_response: unknown, query: { sql: string }): void =>
      void answered.push(query.sql);
    pool.knex.on("query-response", record);
    try {
      const outcome = inRequestScope(scopeOptions(left.signal), async (scope) => {
        const trx = await scope.transaction(pool.knex);
        await trx.raw("SELECT 1 AS before_leaving");
        left.abort();
        await trx.raw("SELECT 2 AS after_leaving");
      });
      await expect(outcome).rejects.toBeInstanceOf(ClientGoneError);
    } finally {
      pool.knex.off("query-response", record);
    }
    expect(answered.some((sql) => sql.includes("before_leaving"))).toBe(true);
    expect(answered.some((sql) => sql.includes("after_leaving"))).toBe(false);
    expect(poolIdle(pool.knex)).toBe(true);
  });

  test("a pool with no free connection is a 503 with Retry-After, not a 500 after the acquire timeout", async () => {
    const tight = knexFactory({
      client: "pg",
      connection: db.current.url,
      pool: { min: 0, max: 1 },
      acquireConnectionTimeout: 300,
    });
    const held = await tight.transaction();
    try {
      const outcome = inRequestScope(scopeOptions(never), (scope) => scope.transaction(tight));
      await expect(outcome).rejects.toMatchObject({ status: 503, errcode: "M_UNKNOWN" });
    } finally {
      await held.rollback();
      await tight.destroy();
    }
  });
});

describe("the request scope on SQLite", () => {
  const db = useTestDatabase("sqlite");

  test("a statement running when the client leaves is interrupted", async () => {
    const left = new AbortController();
    const started = Date.now();
    const outcome = inRequestScope(scopeOptions(left.signal), async (scope) => {
      const trx = await scope.transaction(db.current.knex);
      setTimeout(() => left.abort(), 200);
      // Counts to a billion: minutes, unless interrupted.
      await trx.raw(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000000000) SELECT count(*) FROM n",
      );
    });
    await expect(outcome).rejects.toThrow(/SQLITE_INTERRUPT/);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(poolIdle(db.current.knex)).toBe(true);
    // The connection serves the next request as if nothing had happened.
    const next = await inRequestScope(scopeOptions(never), async (scope) =>
      (await scope.transaction(db.current.knex)).raw<Array<{ one: number }>>("SELECT 1 AS one"),
    );
    expect(next).toEqual([{ one: 1 }]);
  });

  test("no statement is begun for a request whose client has left", async () => {
    const left = new AbortController();
    const outcome = inRequestScope(scopeOptions(left.signal), async (scope) => {
      const trx = await scope.transaction(db.current.knex);
      left.abort();
      await trx.raw("SELECT 2 AS after_leaving");
    });
    await expect(outcome).rejects.toBeInstanceOf(ClientGoneError);
    expect(poolIdle(db.current.knex)).toBe(true);
  });
});
