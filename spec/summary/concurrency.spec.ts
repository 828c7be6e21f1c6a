// The summary stays exact while several connections change media of the same few users at
// once: uploads, deletions down to a user's last medium, moves between users and to no user,
// length changes, alone or several to a transaction, as Synapse would run them.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import knexFactory, { type Knex } from "knex";
import { createSynapseSchema, insertMedia, openPostgres, seededRandom } from "../../fixtures";
import { installMediaUsageSummary, verifyMediaUsageSummary } from "../../lib";
import { inSqliteImmediateTransaction, knexRunner, type SqlRunner } from "../../lib/sql";
import { openTestDatabase, type DatabaseKind } from "../helpers/databases";
import { expectedSummaryRows, summaryRows } from "../helpers/media-usage";

const RUN_MS = 3_000;
// On a loaded machine 3 s may hold too few transactions to mean anything: the writers then go
// on until they have run enough of them (and emptied enough users), up to this long.
const MAX_RUN_MS = 20_000;
const ENOUGH = { transactions: 150, emptied: 10 };
// Few users, so that writers keep meeting on the same summary rows.
const USERS = ["@a:test", "@b:test", "@c:test", "@d:test", "@e:test"];

interface Tally {
  statements: number;
  transactions: number;
  retries: number;
  /** Statements that emptied a user (their summary row must go) while others uploaded for them. */
  emptied: number;
}

/** One change, chosen at random, as SQL both databases run. */
function randomChange(
  random: () => number,
  worker: number,
  sequence: number,
): { sql: string; bindings: Array<string | number | null> } {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const user = pick(USERS);
  const other = pick([...USERS, null]);
  const length = random() < 0.15 ? null : Math.floor(random() * 10_000);
  const id = `w${worker}-${sequence}`;
  const firstOf =
    "(SELECT media_id FROM local_media_repository WHERE user_id = ? ORDER BY media_id LIMIT 1)";
  const choice = random();
  if (choice < 0.3) {
    return {
      sql: "INSERT INTO local_media_repository (media_id, user_id, media_length, created_ts) VALUES (?, ?, ?, 1)",
      bindings: [id, random() < 0.1 ? null : user, length],
    };
  }
  if (choice < 0.4) {
    return {
      sql: "INSERT INTO local_media_repository (media_id, user_id, media_length, created_ts) VALUES (?, ?, ?, 1), (?, ?, ?, 1)",
      bindings: [`${id}a`, user, length, `${id}b`, other, 7],
    };
  }
  if (choice < 0.55)
    return {
      sql: `DELETE FROM local_media_repository WHERE media_id = ${firstOf}`,
      bindings: [user],
    };
  if (choice < 0.62)
    return { sql: "DELETE FROM local_media_repository WHERE user_id = ?", bindings: [user] };
  if (choice < 0.75) {
    return {
      sql: `UPDATE local_media_repository SET user_id = ? WHERE media_id = ${firstOf}`,
      bindings: [other, user],
    };
  }
  if (choice < 0.8) {
    return {
      sql: "UPDATE local_media_repository SET user_id = ? WHERE media_id = (SELECT media_id FROM local_media_repository WHERE user_id IS NULL ORDER BY media_id LIMIT 1)",
      bindings: [user],
    };
  }
  if (choice < 0.9) {
    return {
      sql: `UPDATE local_media_repository SET media_length = ? WHERE media_id = ${firstOf}`,
      bindings: [length, user],
    };
  }
  if (choice < 0.95) {
    return {
      sql: "UPDATE local_media_repository SET user_id = ?, media_length = media_length + 1 WHERE user_id = ?",
      bindings: [other, user],
    };
  }
  return {
    sql: "UPDATE local_media_repository SET last_access_ts = ? WHERE user_id = ?",
    bindings: [sequence, user],
  };
}

/** Errors after which Synapse runs the transaction again: serialization failures, deadlocks, a busy SQLite. */
const isRetryable = (error: unknown): boolean => {
  const code = (error as { code?: unknown }).code;
  return code === "40001" || code === "40P01" || code === "SQLITE_BUSY";
};

async function runWorker(
  kind: DatabaseKind,
  db: Knex,
  worker: number,
  deadline: { soonest: number; latest: number },
  tally: Tally,
): Promise<void> {
  const random = seededRandom(1000 + worker);
  let sequence = 0;
  const enough = () =>
    Date.now() >= deadline.soonest &&
    tally.transactions >= ENOUGH.transactions &&
    tally.emptied >= ENOUGH.emptied;
  while (Date.now() < deadline.latest && !enough()) {
    const changes = Array.from({ length: random() < 0.3 ? 2 + Math.floor(random() * 3) : 1 }, () =>
      randomChange(random, worker, sequence++),
    );
    const repeatableRead = kind === "postgres" && random() < 0.5;
    const apply = async (run: SqlRunner): Promise<void> => {
      if (repeatableRead) await run.rows("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ");
      for (const change of changes) {
        const emptying = change.sql.startsWith("DELETE FROM local_media_repository WHERE user_id");
        await run.rows(change.sql, change.bindings);
        tally.statements += 1;
        if (emptying) tally.emptied += 1;
      }
    };
    for (let attempt = 0; ; attempt++) {
      try {
        if (kind === "postgres") await db.transaction((trx) => apply(knexRunner(trx, "postgres")));
        else await inSqliteImmediateTransaction(db, apply);
        tally.transactions += 1;
        break;
      } catch (error) {
        if (!isRetryable(error) || attempt >= 100) throw error;
        tally.retries += 1;
        // A moment's pause, as a retrying client would, so the winner can commit.
        await new Promise((resolve) => setTimeout(resolve, random() * 5 * (attempt + 1)));
      }
    }
  }
}

/** Connections to the same database: a pool for PostgreSQL, one connection per writer for SQLite. */
function openWriters(kind: DatabaseKind, location: string, count: number): Knex[] {
  if (kind === "postgres") {
    // Deadlocks are expected here (transactions touch several users in random order) and
    // PostgreSQL looks for them only after deadlock_timeout (1 s by default); commits need not
    // wait for the disk either. Both only make the few seconds of the test go further, and a
    // server that will not let this role shorten deadlock_timeout runs the test all the same.
    type Connection = { query(sql: string, done: (error: Error | null) => void): void };
    return [
      openPostgres(location, {
        min: 0,
        max: count,
        afterCreate: (
          connection: Connection,
          done: (error: Error | null, connection: unknown) => void,
        ) =>
          connection.query("SET synchronous_commit = off", (error) => {
            if (error) return done(error, connection);
            connection.query("SET deadlock_timeout = '20ms'", () => done(null, connection));
          }),
      }),
    ];
  }
  return Array.from({ length: count }, () =>
    knexFactory({
      client: "sqlite3",
      connection: { filename: location },
      useNullAsDefault: true,
      pool: {
        min: 1,
        max: 1,
        afterCreate: (
          connection: { exec(sql: string, done: (error: Error | null) => void): void },
          done: (error: Error | null) => void,
        ) => connection.exec("PRAGMA busy_timeout = 10000;", done),
      },
    }),
  );
}

const WRITERS: Record<DatabaseKind, number> = { postgres: 6, sqlite: 4 };

describe.each(["sqlite", "postgres"] as const)(
  "the summary under concurrent writers on %s",
  (kind) => {
    let location: string;
    let setup: Knex;
    let cleanup: () => Promise<void>;
    beforeAll(async () => {
      if (kind === "postgres") {
        const database = await openTestDatabase("postgres", { schema: true });
        location = database.url ?? "";
        setup = database.knex;
        cleanup = () => database.close();
      } else {
        const dir = mkdtempSync(join(tmpdir(), "sas-summary-"));
        location = join(dir, "homeserver.db");
        setup = knexFactory({
          client: "sqlite3",
          connection: { filename: location },
          useNullAsDefault: true,
          pool: { min: 1, max: 1 },
        });
        await setup.raw("PRAGMA journal_mode = WAL");
        await createSynapseSchema(setup);
        cleanup = async () => {
          await setup.destroy();
          rmSync(dir, { recursive: true, force: true });
        };
      }
      await insertMedia(
        setup,
        Array.from({ length: 40 }, (_, i) => ({
          media_id: `seed${i}`,
          user_id: USERS[i % USERS.length] ?? null,
          media_length: i,
          created_ts: 1,
        })),
      );
      await installMediaUsageSummary(setup);
    });
    afterAll(() => cleanup());

    test(`${WRITERS[kind]} writers changing media of the same users at once leave the summary equal to the aggregate`, async () => {
      const writers = openWriters(kind, location, WRITERS[kind]);
      const tally: Tally = { statements: 0, transactions: 0, retries: 0, emptied: 0 };
      try {
        const deadline = { soonest: Date.now() + RUN_MS, latest: Date.now() + MAX_RUN_MS };
        // allSettled: a failing writer must not leave the others running into closed pools.
        const outcomes = await Promise.allSettled(
          Array.from({ length: WRITERS[kind] }, (_, worker) =>
            runWorker(kind, writers[worker % writers.length] as Knex, worker, deadline, tally),
          ),
        );
        for (const outcome of outcomes) if (outcome.status === "rejected") throw outcome.reason;
      } finally {
        await Promise.all(writers.map((writer) => writer.destroy()));
      }

      expect(tally.transactions).toBeGreaterThan(100);
      expect(tally.emptied).toBeGreaterThan(5);
      const report = await verifyMediaUsageSummary(setup);
      expect(report).toMatchObject({
        installed: true,
        triggersPresent: true,
        drift: [],
        driftedUsers: 0,
      });
      expect(await summaryRows(setup)).toEqual(await expectedSummaryRows(setup));
    }, 30_000);
  },
);
