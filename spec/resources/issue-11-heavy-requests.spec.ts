// Issue 11, item 6: heavy requests starved cheap ones. "The pool has 10 connections and a 15 s
// acquire timeout. With 70 heavy requests queued on SQLite, a request with an unknown token
// got 500 after 60 s instead of 401." Token lookups now have connections of their own in the
// CLI; concurrent heavy requests are bounded (by default, the pool minus two), a short queue
// waits, and the excess is answered 503 M_UNKNOWN with Retry-After, never 500.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import knexFactory, { type Knex } from "knex";
import { insertMediaDataset, openPostgres, randomMediaDataset } from "../../fixtures";
import { createTestApp } from "../helpers/app";
import { startCli, type RunningCli } from "../helpers/cli";
import { useTestDatabase, type DatabaseKind } from "../helpers/databases";
import { anyAdmin } from "../helpers/rooms";
import { clientOf, eventually, serve, type Answer } from "./http-client";
import { createManyUsersSqliteFile, insertManyUsers } from "./many-users";

const UNKNOWN_TOKEN = "syt_no_such_token_at_all";

/** A 503 as the contract has it: M_UNKNOWN, a message, and Retry-After in whole seconds. */
function expectServiceUnavailable(answer: Answer): void {
  expect(answer.status).toBe(503);
  expect(answer.headers["retry-after"]).toMatch(/^[1-9]\d*$/);
  const body = JSON.parse(answer.body) as { errcode: string; error: string };
  expect(body.errcode).toBe("M_UNKNOWN");
  expect(body.error.length).toBeGreaterThan(0);
}

const count = (answers: Answer[], status: number): number =>
  answers.filter((answer) => answer.status === status).length;

describe("issue 11.6 through the router on PostgreSQL", () => {
  const db = useTestDatabase("postgres", (knex) =>
    insertMediaDataset(knex, randomMediaDataset({ seed: 116, users: 40 })),
  );

  test("heavy requests beyond the running ones and a short queue are answered 503 with Retry-After at once, the rest 200", async () => {
    // A pool of 4: two heavy requests run, four wait, two connections stay for token lookups.
    const knex = openPostgres(db.current.url as string, { min: 0, max: 4 });
    const app = await serve(createTestApp({ knex }));
    const lock = await db.current.admin.transaction();
    await lock.raw("LOCK TABLE local_media_repository IN ACCESS EXCLUSIVE MODE");
    const early: Answer[] = [];
    const pending = Array.from({ length: 12 }, () =>
      app.get("?order_by=media_length").then((answer) => {
        early.push(answer);
        return answer;
      }),
    );
    try {
      // While the running ones wait on the lock, the excess is answered already.
      expect(await eventually(() => early.length >= 6, 5000)).toBe(true);
      expect(early.map((answer) => answer.status)).toEqual(Array(early.length).fill(503));
      // A request with an unknown token still gets its 401 at once.
      const unknown = await app.get("?limit=1", UNKNOWN_TOKEN, 5000);
      expect(unknown.status).toBe(401);
    } finally {
      await lock.commit();
      await Promise.allSettled(pending);
      await app.close();
      await knex.destroy();
    }
    const answers = await Promise.all(pending);
    expect(count(answers, 200)).toBe(6);
    expect(count(answers, 503)).toBe(6);
    for (const answer of answers.filter((answer) => answer.status === 503)) {
      expectServiceUnavailable(answer);
    }
  }, 60_000);
});

describe.each<DatabaseKind>(["postgres", "sqlite"])(
  "issue 11.6 through the router on %s: a pool the host app has taken",
  (kind) => {
    const db = useTestDatabase(kind, async () => undefined, { schema: false });

    test("is a 503 with Retry-After once the acquire timeout passes, not a 500", async () => {
      // One connection, and a short wait for it.
      const knex: Knex = knexFactory({
        ...(kind === "postgres"
          ? { client: "pg", connection: db.current.url }
          : { client: "sqlite3", connection: { filename: ":memory:" }, useNullAsDefault: true }),
        pool: { min: 0, max: 1 },
        acquireConnectionTimeout: 500,
      });
      const app = await serve(createTestApp({ knex, authCheck: anyAdmin }));
      // The host app holds every connection of the pool.
      const held = await knex.transaction();
      try {
        expectServiceUnavailable(await app.get("?limit=1", undefined, 20_000));
      } finally {
        await held.rollback();
        await app.close();
        await knex.destroy();
      }
    });
  },
);

describe.each<DatabaseKind>(["sqlite", "postgres"])(
  "issue 11.6 through the CLI on %s: heavy requests queued, then an unknown token",
  (kind) => {
    const dir = mkdtempSync(join(tmpdir(), "sas-issue-11-6-"));
    let cli: RunningCli;
    let release: () => Promise<void> = async () => undefined;
    const db = useTestDatabase(kind === "postgres" ? "postgres" : "sqlite", async () => undefined, {
      schema: kind === "postgres",
    });

    beforeAll(async () => {
      let database: string;
      if (kind === "sqlite") {
        database = join(dir, "homeserver.db");
        // About a second per request on one connection: 70 of them, over a minute of work.
        await createManyUsersSqliteFile(database, { users: 50_000, media: 500_000 });
      } else {
        database = db.current.url as string;
        await insertManyUsers(db.current.admin, { users: 1000, media: 5000 });
      }
      cli = await startCli(["serve", "--listen", "127.0.0.1:0", "--database", database]);
      if (kind === "postgres") {
        // On PostgreSQL the heavy requests wait on a lock, as they would on a long scan.
        const lock = await db.current.admin.transaction();
        await lock.raw("LOCK TABLE local_media_repository IN ACCESS EXCLUSIVE MODE");
        release = async () => void (await lock.commit());
      }
    }, 120_000);
    afterAll(async () => {
      await release();
      await cli?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    test("the unknown token gets its 401 promptly, and each heavy request 200 or 503 with Retry-After", async () => {
      const client = clientOf(cli.baseUrl);
      const heavy = Array.from({ length: 70 }, () =>
        client.get("?search_term=user&limit=1", undefined, 120_000),
      );
      await new Promise((done) => setTimeout(done, 300));
      const unknown = await client.get("?limit=1", UNKNOWN_TOKEN, 5000);
      expect(unknown.status).toBe(401);
      expect(JSON.parse(unknown.body)).toMatchObject({ errcode: "M_UNKNOWN_TOKEN" });
      await release();
      const answers = await Promise.all(heavy);
      expect(count(answers, 200) + count(answers, 503)).toBe(70);
      expect(count(answers, 503)).toBeGreaterThan(0);
      for (const answer of answers.filter((answer) => answer.status === 503)) {
        expectServiceUnavailable(answer);
      }
    }, 120_000);
  },
);
