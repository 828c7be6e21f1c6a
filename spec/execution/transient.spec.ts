// Which failures a retry can save, which only time heals, and which are no transient failure
// at all, told from real errors of real servers and pools; and how retryTransient tries again,
// gives up with a 503 and Retry-After, and warns once per cause.

import knexFactory, { type Knex } from "knex";
import { freePort, openPostgres, openSqlite } from "../../fixtures";
import { InternalFailure, invalidParam, MatrixError } from "../../lib/errors";
import {
  DEFAULT_RETRIES,
  retryTransient,
  transientCause,
  WARNING_INTERVAL_MS,
} from "../../lib/execution/transient";
import { recordingLogger } from "../helpers/app";
import { postgresServerUrl } from "../helpers/databases";

/** What `work` rejects with. */
async function failureOf(work: () => Promise<unknown>): Promise<unknown> {
  try {
    await work();
  } catch (error) {
    return error;
  }
  throw new Error("expected a failure");
}

const quietKnex = (config: Knex.Config): Knex =>
  knexFactory({
    ...config,
    log: { warn: () => {}, error: () => {}, debug: () => {}, deprecate: () => {} },
  });

let server: Knex;
let refused: unknown;
let terminated: unknown;
beforeAll(async () => {
  server = openPostgres(postgresServerUrl(), { min: 0, max: 2 });
  const closed = quietKnex({
    client: "pg",
    connection: `postgres://nobody@127.0.0.1:${await freePort()}/none`,
  });
  refused = await failureOf(() => closed.raw("SELECT 1"));
  await closed.destroy();
  // A session ended by pg_terminate_backend while its statement runs.
  const victim = openPostgres(postgresServerUrl(), { min: 0, max: 1 });
  const { rows } = await victim.raw<{ rows: Array<{ pid: number }> }>(
    "SELECT pg_backend_pid() AS pid",
  );
  const pid = rows[0]?.pid ?? 0;
  const sleeping = failureOf(() => victim.raw("SELECT pg_sleep(30)"));
  await new Promise((resolve) => setTimeout(resolve, 200));
  await server.raw("SELECT pg_terminate_backend(?)", [pid]);
  terminated = await sleeping;
  await victim.destroy();
});

afterAll(async () => {
  await server.destroy();
});

describe("transientCause", () => {
  test("a session ended by the server (57P01) is a lost connection, worth a retry", () => {
    expect(transientCause(terminated)).toEqual({
      name: "connection-lost",
      retry: true,
      code: "57P01",
    });
  });

  test("a refused connection is an unavailable database, not worth an immediate retry", () => {
    expect(transientCause(refused)).toEqual({
      name: "database-unavailable",
      retry: false,
      code: "ECONNREFUSED",
    });
  });

  test("a connection refused on every address (an AggregateError) is an unavailable database", () => {
    expect(transientCause(new AggregateError([refused], "connect failed"))).toMatchObject({
      name: "database-unavailable",
    });
  });

  test("a pool that hands out no connection within its acquire timeout is an unavailable database", async () => {
    const pool = quietKnex({
      client: "pg",
      connection: postgresServerUrl(),
      pool: { min: 0, max: 1 },
      acquireConnectionTimeout: 100,
    });
    try {
      const holder = pool.transaction();
      const trx = await holder;
      const timedOut = await failureOf(() => pool.raw("SELECT 1"));
      await trx.rollback();
      expect(transientCause(timedOut)).toEqual({ name: "database-unavailable", retry: false });
    } finally {
      await pool.destroy();
    }
  });

  test("a failure wrapped as the cause of another (as authCheck failures are) is found", () => {
    expect(transientCause(new InternalFailure("authCheck threw", {}, terminated))).toMatchObject({
      name: "connection-lost",
    });
  });

  test("a statement timeout, a missing table and a Matrix error are not transient", async () => {
    const timeout = await failureOf(() =>
      server.transaction(async (trx) => {
        await trx.raw("SET LOCAL statement_timeout = 10");
        await trx.raw("SELECT pg_sleep(1)");
      }),
    );
    expect((timeout as { code?: string }).code).toBe("57014");
    const missing = await failureOf(() => server.raw("SELECT * FROM no_such_table"));
    // On SQLite, knex puts the statement with its values in the message: request text there
    // must not count.
    const sqlite = openSqlite();
    const lookalike = await failureOf(() =>
      sqlite.raw("SELECT * FROM no_such_table WHERE a = ?", [
        "x - Connection terminated unexpectedly",
      ]),
    );
    await sqlite.destroy();
    expect(String((lookalike as Error).message)).toContain("Connection terminated unexpectedly");
    for (const error of [
      timeout,
      missing,
      lookalike,
      invalidParam("no"),
      new Error("boom"),
      "text",
      null,
    ]) {
      expect(transientCause(error)).toBeUndefined();
    }
  });
});

describe("retryTransient", () => {
  /** Work that fails with `errors` in turn, then answers "done"; counts its calls. */
  function flaky(errors: unknown[]) {
    let calls = 0;
    return {
      get calls() {
        return calls;
      },
      work: async () => {
        const error = errors[calls++];
        if (error !== undefined) throw error;
        return "done";
      },
    };
  }

  test("a failure a retry can save is tried again and answered; one warning names the cause", async () => {
    const { logger, records } = recordingLogger();
    const attempts = flaky([terminated]);
    expect(await retryTransient(attempts.work, { logger })).toBe("done");
    expect(attempts.calls).toBe(2);
    expect(records).toEqual([
      {
        level: "warn",
        details: { cause: "connection-lost", code: "57P01" },
        message: expect.stringMatching(/closed under a read .*; retrying\.$/),
      },
    ]);
  });

  test("retries end after two: the third failure is a 503 M_UNKNOWN with Retry-After", async () => {
    const { logger } = recordingLogger();
    const attempts = flaky([terminated, terminated, terminated, terminated]);
    const failure = await failureOf(() => retryTransient(attempts.work, { logger }));
    expect(attempts.calls).toBe(1 + DEFAULT_RETRIES);
    expect(failure).toBeInstanceOf(MatrixError);
    expect(failure).toMatchObject({
      status: 503,
      errcode: "M_UNKNOWN",
      headers: { "Retry-After": "2" },
    });
  });

  test("an unavailable database is a 503 at once, without a retry", async () => {
    const { logger, records } = recordingLogger();
    const attempts = flaky([refused]);
    const failure = await failureOf(() => retryTransient(attempts.work, { logger }));
    expect(attempts.calls).toBe(1);
    expect(failure).toMatchObject({ status: 503, headers: { "Retry-After": "5" } });
    expect(records.map((record) => record.message)).toEqual([
      expect.stringMatching(/answering 503 with Retry-After\.$/),
    ]);
  });

  test("any other failure is thrown as it is, untried", async () => {
    const { logger, records } = recordingLogger();
    const boom = new Error("boom");
    const attempts = flaky([boom]);
    expect(await failureOf(() => retryTransient(attempts.work, { logger }))).toBe(boom);
    expect(attempts.calls).toBe(1);
    expect(records).toEqual([]);
  });

  test("once the signal is aborted (the client left), no further try is made", async () => {
    const { logger } = recordingLogger();
    const gone = new AbortController();
    gone.abort();
    const attempts = flaky([terminated]);
    await failureOf(() => retryTransient(attempts.work, { logger, signal: gone.signal }));
    expect(attempts.calls).toBe(1);
  });

  test("a cause is warned about once per logger, then at most once per interval, with a count of the rest", async () => {
    const { logger, records } = recordingLogger();
    const other = recordingLogger();
    const now = Date.now();
    const clock = jest.spyOn(Date, "now").mockReturnValue(now);
    try {
      for (let request = 0; request < 3; request++) {
        await retryTransient(flaky([terminated]).work, { logger });
      }
      await retryTransient(flaky([terminated]).work, { logger: other.logger });
      expect(records).toHaveLength(1);
      expect(other.records).toHaveLength(1);
      clock.mockReturnValue(now + WARNING_INTERVAL_MS);
      await retryTransient(flaky([terminated]).work, { logger });
      expect(records.map((record) => record.details)).toEqual([
        { cause: "connection-lost", code: "57P01" },
        { cause: "connection-lost", code: "57P01", repeatsSinceLastWarning: 2 },
      ]);
    } finally {
      clock.mockRestore();
    }
  });
});
