// The storage part of the summary under concurrent writers on PostgreSQL: every upload and
// fetch of the same content type in the same month, and every fetch from the same origin,
// meets the others on the same few summary rows. Each writer works as Synapse does (one
// statement a transaction; deletes take the media, then their thumbnails), on its own media,
// so any deadlock would be the summary's: none may happen, and the summary ends exact.

import type { Knex } from "knex";
import {
  insertStorageDataset,
  openPostgres,
  randomStorageDataset,
  seededRandom,
} from "../../fixtures";
import { installMediaUsageSummary } from "../../lib";
import { openTestDatabase, type TestDatabase } from "../helpers/databases";
import { expectSummaryMatchesScan, NOW } from "./storage-compare";

const RUN_MS = 3_000;
const WRITERS = 6;
const HOT_TYPES = ["image/jpeg", "image/png"];
const HOT_ORIGINS = ["matrix.org", "Example.COM"];

interface Tally {
  transactions: number;
  multiRow: number;
}

/** One writer's changes, each a transaction of Synapse's shape, on media of its own. */
async function runWriter(db: Knex, worker: number, until: number, tally: Tally): Promise<void> {
  const random = seededRandom(500 + worker);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const mine: Array<{ local: string; remote: string; origin: string }> = [];
  for (let sequence = 0; Date.now() < until; sequence++) {
    const id = `c${worker}-${sequence}`;
    const origin = pick(HOT_ORIGINS);
    const choice = random();
    if (choice < 0.45 || mine.length < 5) {
      // An upload and a fetch, then their thumbnails, each in its own transaction.
      await db("local_media_repository").insert({
        media_id: id,
        user_id: `@w${worker}:test`,
        media_type: pick(HOT_TYPES),
        media_length: Math.floor(random() * 10_000),
        created_ts: NOW,
      });
      await db("remote_media_cache").insert({
        media_origin: origin,
        media_id: id,
        media_type: pick(HOT_TYPES),
        media_length: Math.floor(random() * 10_000),
        created_ts: NOW,
        filesystem_id: id,
      });
      await db("local_media_repository_thumbnails").insert({
        media_id: id,
        thumbnail_width: 32,
        thumbnail_length: 100,
      });
      await db("remote_media_cache_thumbnails").insert({
        media_origin: origin,
        media_id: id,
        thumbnail_width: 32,
        thumbnail_length: 100,
      });
      mine.push({ local: id, remote: id, origin });
      tally.transactions += 4;
    } else if (choice < 0.7) {
      // Synapse's purge: the media, then its thumbnails, in one transaction.
      const victim = mine.splice(Math.floor(random() * mine.length), 1)[0];
      if (victim === undefined) continue;
      await db.transaction(async (trx) => {
        await trx("local_media_repository").where("media_id", victim.local).delete();
        await trx("local_media_repository_thumbnails").where("media_id", victim.local).delete();
      });
      await db.transaction(async (trx) => {
        await trx("remote_media_cache")
          .where({ media_origin: victim.origin, media_id: victim.remote })
          .delete();
        await trx("remote_media_cache_thumbnails")
          .where({ media_origin: victim.origin, media_id: victim.remote })
          .delete();
      });
      tally.transactions += 2;
    } else if (choice < 0.85) {
      // One statement over several of its media, across keys: quarantine, or a new length.
      const ids = mine.slice(-4).map((media) => media.remote);
      await db("remote_media_cache")
        .whereIn("media_id", ids)
        .update(random() < 0.5 ? { quarantined_by: "@admin:test" } : { media_length: sequence });
      await db("local_media_repository")
        .whereIn("media_id", ids)
        .update({ media_type: pick([...HOT_TYPES, null]) });
      tally.transactions += 2;
      tally.multiRow += 2;
    } else {
      // Synapse's access times: an UPDATE of no column the summary reads.
      await db("remote_media_cache")
        .where("media_id", pick(mine).remote)
        .update({ last_access_ts: sequence });
      tally.transactions += 1;
    }
  }
}

describe("the storage summary under concurrent writers on PostgreSQL", () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await openTestDatabase("postgres");
    await insertStorageDataset(database.knex, randomStorageDataset({ seed: 3, now: NOW }));
    await installMediaUsageSummary(database.knex);
  });
  afterAll(() => database.close());

  test(`${WRITERS} writers on the same summary rows: no deadlock, and the summary ends exact`, async () => {
    // A deadlock is reported after deadlock_timeout: a short one finds any within the run.
    const writers = openPostgres(database.url ?? "", {
      min: 0,
      max: WRITERS,
      afterCreate: (
        connection: { query(sql: string, done: (error: Error | null) => void): void },
        done: (error: Error | null, connection: unknown) => void,
      ) =>
        connection.query("SET synchronous_commit = off", (error) => {
          if (error) return done(error, connection);
          connection.query("SET deadlock_timeout = '20ms'", () => done(null, connection));
        }),
    });
    const tally: Tally = { transactions: 0, multiRow: 0 };
    try {
      const until = Date.now() + RUN_MS;
      const outcomes = await Promise.allSettled(
        Array.from({ length: WRITERS }, (_, worker) => runWriter(writers, worker, until, tally)),
      );
      // No retries: a deadlock (40P01) fails the writer that lost, and the test with it.
      for (const outcome of outcomes) if (outcome.status === "rejected") throw outcome.reason;
    } finally {
      await writers.destroy();
    }
    expect(tally.transactions).toBeGreaterThan(200);
    expect(tally.multiRow).toBeGreaterThan(10);
    await expectSummaryMatchesScan(database.knex, "postgres");
  }, 30_000);
});
