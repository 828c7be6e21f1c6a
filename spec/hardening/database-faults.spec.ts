// Database faults on a PostgreSQL of this file's own (so it can be stopped): a server that goes
// away mid-request and comes back, a pool with more requests than connections, and a statement
// past statement_timeout. Clean 503s with Retry-After for what passes, a clean 500 for what does
// not; nothing hangs, nothing crashes, and service resumes.

import { rmSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { Knex } from "knex";
import knexFactory from "knex";
import {
  createPostgresDatabase,
  createSynapseSchema,
  insertAccounts,
  insertMediaDataset,
  openPostgres,
  randomMediaDataset,
  STANDARD_ACCOUNTS,
  STANDARD_TOKENS,
  withDatabase,
} from "../../fixtures";
import { createTestApp, USERS_MEDIA } from "../helpers/app";
import { startPostgresProcess, type PostgresProcess } from "../helpers/postgres-process";

const DATABASE = "faults";
let server: PostgresProcess;
let admin: Knex;
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);

beforeAll(async () => {
  process.on("unhandledRejection", onUnhandled);
  // Its own server, kept on disk, so that a test can stop it and start it again.
  server = await startPostgresProcess();
  admin = openPostgres(await createPostgresDatabase(server.url, DATABASE), { min: 0, max: 2 });
  await createSynapseSchema(admin);
  await insertAccounts(admin, STANDARD_ACCOUNTS);
  await insertMediaDataset(admin, randomMediaDataset({ seed: 500, users: 40 }));
}, 120_000);

afterAll(async () => {
  await admin?.destroy();
  await server?.stop();
  if (server) rmSync(server.dataDir, { recursive: true, force: true });
  process.off("unhandledRejection", onUnhandled);
});

/** The router on its own pool, as a host app would configure it. */
function routerDatabase(options: {
  max: number;
  acquireMs: number;
  statementTimeoutMs?: number;
}): Knex {
  return knexFactory({
    client: "pg",
    connection: {
      connectionString: withDatabase(server.url, DATABASE),
      connectionTimeoutMillis: 2000,
      application_name: "sas-fault-test",
      ...(options.statementTimeoutMs ? { statement_timeout: options.statementTimeoutMs } : {}),
    },
    pool: { min: 0, max: options.max },
    acquireConnectionTimeout: options.acquireMs,
    log: {
      warn: () => undefined,
      error: () => undefined,
      debug: () => undefined,
      deprecate: () => undefined,
    },
  });
}

async function listen(knex: Knex): Promise<{
  get: (
    query?: string,
  ) => Promise<{ status: number; body: string; ms: number; retryAfter?: string }>;
  close: () => void;
}> {
  const app = http.createServer(createTestApp({ knex }));
  await new Promise<void>((ready) => app.listen(0, "127.0.0.1", ready));
  const port = (app.address() as AddressInfo).port;
  const get = (query = "") =>
    new Promise<{ status: number; body: string; ms: number; retryAfter?: string }>(
      (resolve, reject) => {
        const started = Date.now();
        http
          .get(
            {
              host: "127.0.0.1",
              port,
              agent: false,
              path: `${USERS_MEDIA}${query}`,
              headers: { Authorization: `Bearer ${STANDARD_TOKENS.admin}` },
            },
            (res) => {
              let body = "";
              res.on("data", (chunk: Buffer) => (body += chunk.toString()));
              res.on("end", () =>
                resolve({
                  status: res.statusCode ?? 0,
                  body,
                  ms: Date.now() - started,
                  ...(res.headers["retry-after"] ? { retryAfter: res.headers["retry-after"] } : {}),
                }),
              );
            },
          )
          .on("error", reject);
      },
    );
  return {
    get,
    close: () => {
      app.close();
      app.closeAllConnections();
    },
  };
}

/** Holds an exclusive lock on the media table until released: queries on it wait. */
async function lockMedia(): Promise<() => Promise<void>> {
  const trx = await admin.transaction();
  await trx.raw("LOCK TABLE local_media_repository IN ACCESS EXCLUSIVE MODE");
  return async () => {
    await trx.commit().catch(() => undefined);
  };
}

const GENERIC_500 = JSON.stringify({ errcode: "M_UNKNOWN", error: "Internal server error" });
const UNAVAILABLE_503 = JSON.stringify({
  errcode: "M_UNKNOWN",
  error: "The database is temporarily unavailable",
});

let stopped = false;

async function restart(): Promise<void> {
  server = await startPostgresProcess(server.dataDir, server.port);
  stopped = false;
  await admin.destroy();
  admin = openPostgres(withDatabase(server.url, DATABASE), { min: 0, max: 2 });
}

test("PostgreSQL stopped with requests in flight: they get 503 M_UNKNOWN with Retry-After, none hangs, and service resumes once it is back", async () => {
  const knex = routerDatabase({ max: 4, acquireMs: 3000 });
  const app = await listen(knex);
  try {
    expect((await app.get()).status).toBe(200);
    const release = await lockMedia();
    const inFlight = [app.get(), app.get("?order_by=media_length"), app.get("?search_term=a")];
    await new Promise((done) => setTimeout(done, 500));
    await server.stop();
    stopped = true;
    await release();
    const answers = await Promise.all(inFlight);
    // Whole answers compared, so that a failure shows what came instead.
    expect(answers.map(({ status, body }) => ({ status, body }))).toEqual(
      inFlight.map(() => ({ status: 503, body: UNAVAILABLE_503 })),
    );
    for (const answer of answers) expect(Number(answer.retryAfter)).toBeGreaterThan(0);
    // While it is down: refused connections, answered within the connection timeout.
    const down = await app.get();
    expect(down.status).toBe(503);
    expect(down.ms).toBeLessThan(5000);

    await restart();
    let back = await app.get();
    for (let attempt = 0; attempt < 10 && back.status !== 200; attempt++) back = await app.get();
    expect(back.status).toBe(200);
    expect((await app.get("?order_by=displayname")).status).toBe(200);
  } finally {
    app.close();
    await knex.destroy();
    // A failure above must not leave the server down for the tests after this one.
    if (stopped) await restart();
  }
}, 120_000);

test("more requests than pool connections, two held by pg_sleep: the rest queue and finish, or get 503 with Retry-After, within the acquire timeout", async () => {
  const knex = routerDatabase({ max: 2, acquireMs: 1000 });
  const app = await listen(knex);
  try {
    // knex runs a query when it is awaited: start both now.
    const sleepers = [1, 2].map(() => knex.raw("SELECT pg_sleep(2.5)").then(() => undefined));
    // Both connections taken (each runs its sleep) before the requests arrive.
    for (let wait = 0; wait < 50; wait++) {
      const sleeping = await admin.raw<{ rows: unknown[] }>(
        "SELECT 1 FROM pg_stat_activity WHERE application_name = 'sas-fault-test' AND query LIKE '%pg_sleep%' AND state = 'active'",
      );
      if (sleeping.rows.length === 2) break;
      await new Promise((done) => setTimeout(done, 50));
    }
    const started = Date.now();
    const answers = await Promise.all(Array.from({ length: 8 }, () => app.get()));
    await Promise.all(sleepers);
    for (const answer of answers) {
      expect([200, 503]).toContain(answer.status);
      if (answer.status === 503) {
        expect(answer.body).toBe(UNAVAILABLE_503);
        expect(Number(answer.retryAfter)).toBeGreaterThan(0);
      }
    }
    // The pool was full for longer than the acquire timeout: some waited it out and were told
    // to come back later.
    expect(answers.filter((answer) => answer.status === 503).length).toBeGreaterThan(0);
    expect(Date.now() - started).toBeLessThan(10_000);
    // The pool is whole again.
    const after = await Promise.all(Array.from({ length: 4 }, () => app.get()));
    expect(after.map((answer) => answer.status)).toEqual([200, 200, 200, 200]);
  } finally {
    app.close();
    await knex.destroy();
  }
}, 60_000);

test("a statement past statement_timeout is cancelled on the server, answered 500, and its connection serves the next request", async () => {
  const knex = routerDatabase({ max: 1, acquireMs: 3000, statementTimeoutMs: 400 });
  const app = await listen(knex);
  try {
    expect((await app.get()).status).toBe(200);
    const release = await lockMedia();
    let answer;
    try {
      answer = await app.get("?order_by=media_count");
    } finally {
      await release();
    }
    expect(answer.status).toBe(500);
    expect(answer.body).toBe(GENERIC_500);
    const active = await admin.raw<{ rows: Array<{ state: string; query: string }> }>(
      "SELECT state, query FROM pg_stat_activity WHERE application_name = 'sas-fault-test' AND state <> 'idle'",
    );
    expect(active.rows).toEqual([]);
    // One connection in the pool: the next request reuses the one that timed out.
    expect((await app.get()).status).toBe(200);
  } finally {
    app.close();
    await knex.destroy();
  }
}, 60_000);

test("no promise rejection went unhandled", () => {
  expect(unhandled).toEqual([]);
});
