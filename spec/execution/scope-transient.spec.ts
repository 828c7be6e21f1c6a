// A request's statements share one transaction. When the server ends its session under one
// of them, every later statement gets only knex's "Transaction query already complete", also
// when the code that ran the first one caught its failure (a summary check that falls back).
// The request must fail with the server's error, so that the retry sees a lost connection (a
// retry, then 503), not an unexplained failure (500).

import { Admission } from "../../lib/execution/admission";
import { inRequestScope } from "../../lib/execution/scope";
import { transientCause } from "../../lib/execution/transient";
import { recoverably } from "../../lib/sql";
import knexFactory, { type Knex } from "knex";
import { openPostgres } from "../../fixtures";
import { recordingLogger } from "../helpers/app";
import { isStatement, startClosingProxy } from "../helpers/tcp-proxy";
import { postgresServerUrl } from "../helpers/databases";

/** Runs `work` in a request scope on PostgreSQL, with its backend terminated after 300 ms. */
async function failureWithSessionEnded(
  work: (trx: Knex.Transaction) => Promise<unknown>,
): Promise<unknown> {
  const admin = openPostgres(postgresServerUrl(), { min: 0, max: 1 });
  const db = openPostgres(postgresServerUrl(), { min: 0, max: 2 });
  const admission = new Admission({ maxConcurrent: 1, maxQueued: 0, queueTimeoutMs: 1000 });
  try {
    return await inRequestScope(
      {
        signal: new AbortController().signal,
        admissionFor: () => admission,
        logger: recordingLogger().logger,
      },
      async (scope) => {
        const trx = await scope.transaction(db);
        const { rows } = await trx.raw<{ rows: Array<{ pid: number }> }>(
          "SELECT pg_backend_pid() AS pid",
        );
        // knex runs a query once it is awaited or then-ed.
        setTimeout(() => {
          admin.raw("SELECT pg_terminate_backend(?)", [rows[0]?.pid ?? 0]).then(
            () => undefined,
            () => undefined,
          );
        }, 300);
        await work(trx);
      },
    ).then(
      () => undefined,
      (error: unknown) => error,
    );
  } finally {
    await db.destroy();
    await admin.destroy();
  }
}

test("statements sent together, one running and two queued, fail as a lost connection", async () => {
  const failure = await failureWithSessionEnded((trx) =>
    Promise.all([1, 2, 3].map(() => trx.raw("SELECT pg_sleep(5)"))),
  );
  expect(transientCause(failure)).toMatchObject({ name: "connection-lost", retry: true });
});

test("a statement after one whose failure was caught fails as a lost connection, not as knex's 'already complete'", async () => {
  const failure = await failureWithSessionEnded(async (trx) => {
    await trx.raw("SELECT pg_sleep(5)").catch(() => undefined);
    await trx.raw("SELECT 1");
  });
  expect(transientCause(failure)).toMatchObject({ name: "connection-lost", retry: true });
});

test("a statement sent a while after a caught failure in a savepoint fails as a lost connection", async () => {
  const failure = await failureWithSessionEnded(async (trx) => {
    await recoverably(trx, () => trx.raw("SELECT pg_sleep(5)")).catch(() => false);
    await new Promise((resolve) => setTimeout(resolve, 200));
    await trx.raw("SELECT 1");
  });
  expect(transientCause(failure)).toMatchObject({ name: "connection-lost", retry: true });
});

test("a statement after the session was ended while idle in the transaction fails as a lost connection", async () => {
  const failure = await failureWithSessionEnded(async (trx) => {
    await new Promise((resolve) => setTimeout(resolve, 600));
    await trx.raw("SELECT 1");
  });
  expect(transientCause(failure)).toMatchObject({ name: "connection-lost", retry: true });
});

test("a transaction whose BEGIN failed after knex handed it out fails as a lost connection, not as knex's 'already complete'", async () => {
  // The session starts, and is closed at the first statement: the BEGIN of a transaction knex
  // has already handed out.
  const proxy = await startClosingProxy(new URL(postgresServerUrl()), isStatement);
  // A known version: knex would otherwise ask the server for it first.
  const db = knexFactory({
    client: "pg",
    version: "15",
    connection: proxy.url,
    pool: { min: 0, max: 1 },
    log: {
      warn: () => undefined,
      error: () => undefined,
      debug: () => undefined,
      deprecate: () => undefined,
    },
  });
  const admission = new Admission({ maxConcurrent: 1, maxQueued: 0, queueTimeoutMs: 1000 });
  try {
    const failure = await inRequestScope(
      {
        signal: new AbortController().signal,
        admissionFor: () => admission,
        logger: recordingLogger().logger,
      },
      async (scope) => {
        const trx = await scope.transaction(db);
        await trx.raw("SELECT 1");
      },
    ).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(Error);
    expect((failure as Error).message).not.toMatch(/already complete/);
    expect(transientCause(failure)).toMatchObject({ name: "connection-lost", retry: true });
  } finally {
    await db.destroy();
    await proxy.close();
  }
});
