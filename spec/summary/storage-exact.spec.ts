// The storage part of the summary stays exact, on both databases, through random sequences
// of single-row inserts, updates (quarantine, length, content type, month, origin) and
// deletes on the four media tables, through statements of many rows, and through TRUNCATE:
// after each, the summary answers what the scans answer.

import type { Knex } from "knex";
import {
  insertStorageDataset,
  openPostgres,
  randomStorageDataset,
  seededRandom,
} from "../../fixtures";
import { installMediaUsageSummary } from "../../lib";
import { DATABASE_KINDS, openTestDatabase, type TestDatabase } from "../helpers/databases";
import { expectSummaryMatchesScan, NOW } from "./storage-compare";

const TYPES = ["image/png", "image/jpeg", "video/mp4", "", "Image/PNG", null];
const ORIGINS = ["matrix.org", "Example.COM", "a_b.example", "new.example", null];
const SIZES = [0, 1, 4096, 2_147_483_647, null];

/** A timestamp in one of the months around NOW, at a month's edge now and then; or none. */
function timestampOf(random: () => number): number | null {
  const kind = random();
  if (kind < 0.08) return null;
  const now = new Date(NOW);
  const offset = Math.floor(random() * 30) - 2;
  const start = Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - offset, 1);
  const end = Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - offset + 1, 1);
  if (kind < 0.2) return start;
  if (kind < 0.3) return end - 1;
  return start + Math.floor(random() * (end - start));
}

/** The changes both media tables may see: quarantine, length, type, month, and none of those. */
function mediaChanges(random: () => number, step: number): Array<Record<string, unknown>> {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  return [
    { quarantined_by: "@admin:test" },
    { quarantined_by: null },
    { media_length: pick(SIZES) },
    { media_type: pick(TYPES) },
    { created_ts: timestampOf(random) },
    { last_access_ts: step },
  ];
}

/** One random change to one of the four media tables, as Synapse (or an admin) might make it. */
async function randomChange(knex: Knex, random: () => number, step: number): Promise<string> {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const table = pick(["local", "remote", "local_thumbnails", "remote_thumbnails"] as const);
  const action = random();
  if (table === "local") {
    if (action < 0.35) {
      await knex("local_media_repository").insert({
        media_id: `X${step}`,
        user_id: "@x:test",
        media_type: pick(TYPES),
        media_length: pick(SIZES),
        created_ts: timestampOf(random),
        url_cache: random() < 0.2 ? "https://example.org" : null,
        quarantined_by: random() < 0.2 ? "@admin:test" : null,
      });
      return "insert local";
    }
    const victim = await knex("local_media_repository")
      .select("media_id")
      .orderByRaw("media_id")
      .offset(Math.floor(random() * 50))
      .first();
    if (!victim) return "none";
    if (action < 0.55) {
      await knex("local_media_repository").where("media_id", victim.media_id).delete();
      return "delete local";
    }
    const change = pick([
      ...mediaChanges(random, step),
      { url_cache: pick(["https://x.example", null]) },
    ]);
    await knex("local_media_repository").where("media_id", victim.media_id).update(change);
    return `update local ${Object.keys(change)[0]}`;
  }
  if (table === "remote") {
    if (action < 0.35) {
      await knex("remote_media_cache").insert({
        media_origin: pick(ORIGINS),
        media_id: `Y${step}`,
        media_type: pick(TYPES),
        media_length: pick(SIZES),
        created_ts: timestampOf(random),
        filesystem_id: `Y${step}`,
        quarantined_by: random() < 0.2 ? "@admin:test" : null,
      });
      return "insert remote";
    }
    const victim = await knex("remote_media_cache")
      .select("media_origin", "media_id")
      .orderByRaw("media_origin, media_id")
      .offset(Math.floor(random() * 80))
      .first();
    if (!victim) return "none";
    const where = (query: Knex.QueryBuilder) =>
      victim.media_origin === null
        ? query.whereNull("media_origin").andWhere("media_id", victim.media_id)
        : query.where({ media_origin: victim.media_origin, media_id: victim.media_id });
    if (action < 0.55) {
      await where(knex("remote_media_cache")).delete();
      return "delete remote";
    }
    const change = pick([
      ...mediaChanges(random, step),
      { media_origin: `moved${step}.example` },
      { media_origin: null },
    ]);
    await where(knex("remote_media_cache")).update(change);
    return `update remote ${Object.keys(change)[0]}`;
  }
  const thumbnails =
    table === "local_thumbnails"
      ? "local_media_repository_thumbnails"
      : "remote_media_cache_thumbnails";
  if (action < 0.4) {
    await knex(thumbnails).insert({
      ...(table === "remote_thumbnails" ? { media_origin: pick(ORIGINS) } : {}),
      media_id: `T${step}`,
      thumbnail_width: 32,
      thumbnail_height: 32,
      thumbnail_type: "image/png",
      thumbnail_method: "crop",
      thumbnail_length: pick(SIZES),
    });
    return `insert ${table}`;
  }
  const victim = await knex(thumbnails)
    .select("*")
    .orderByRaw("media_id, thumbnail_width")
    .offset(Math.floor(random() * 80))
    .first();
  if (!victim) return "none";
  const one = knex(thumbnails).where({
    media_id: victim.media_id,
    thumbnail_width: victim.thumbnail_width,
  });
  if (table === "remote_thumbnails") {
    if (victim.media_origin === null) one.whereNull("media_origin");
    else one.andWhere("media_origin", victim.media_origin);
  }
  if (action < 0.7) {
    await one.delete();
    return `delete ${table}`;
  }
  const change =
    table === "remote_thumbnails" && random() < 0.5
      ? { media_origin: pick([`moved${step}.example`, null]) }
      : { thumbnail_length: pick(SIZES) };
  await one.update(change);
  return `update ${table}`;
}

describe.each(DATABASE_KINDS)("the storage summary on %s", (kind) => {
  let database: TestDatabase;
  beforeEach(async () => {
    database = await openTestDatabase(kind);
    await insertStorageDataset(database.knex, randomStorageDataset({ seed: 7, now: NOW }));
    await installMediaUsageSummary(database.knex);
  });
  afterEach(() => database.close());

  test("is exact once installed", () => expectSummaryMatchesScan(database.knex, kind));

  test.each([1, 2, 3])(
    "stays exact through a random sequence of single-row changes (seed %i)",
    async (seed) => {
      const random = seededRandom(seed);
      const done: string[] = [];
      for (let step = 0; step < 120; step++) {
        done.push(await randomChange(database.knex, random, step));
        if (step % 40 === 39) await expectSummaryMatchesScan(database.knex, kind);
      }
      expect(done.filter((entry) => entry.startsWith("delete")).length).toBeGreaterThan(10);
    },
  );

  test("stays exact through statements of many rows", async () => {
    const { knex } = database;
    // INSERT ... SELECT: a copy of every remote media under another origin, and local media again.
    await knex.raw(
      `INSERT INTO remote_media_cache (media_origin, media_id, media_type, created_ts, media_length, filesystem_id, quarantined_by)
       SELECT 'copy.example', media_id || '-' || COALESCE(media_origin, 'none'), media_type, created_ts, media_length, filesystem_id, quarantined_by
         FROM remote_media_cache WHERE media_origin IS NOT NULL`,
    );
    await knex.raw(
      `INSERT INTO local_media_repository (media_id, user_id, media_type, media_length, created_ts, url_cache, quarantined_by)
       SELECT media_id || '-copy', user_id, media_type, media_length, created_ts, url_cache, quarantined_by
         FROM local_media_repository`,
    );
    await knex.raw(
      `INSERT INTO remote_media_cache_thumbnails (media_origin, media_id, thumbnail_width, thumbnail_height, thumbnail_type, thumbnail_method, thumbnail_length)
       SELECT 'copy.example', media_id || '-' || media_origin, thumbnail_width, thumbnail_height, thumbnail_type, thumbnail_method, thumbnail_length
         FROM remote_media_cache_thumbnails WHERE media_origin IS NOT NULL`,
    );
    await expectSummaryMatchesScan(knex, kind);
    // Many rows across many keys at once: quarantine an origin, move one, change every length.
    await knex("remote_media_cache")
      .where("media_origin", "matrix.org")
      .update({ quarantined_by: "@admin:test" });
    await knex("remote_media_cache")
      .where("media_origin", "copy.example")
      .update({ media_origin: "Example.COM-2" });
    await knex.raw(
      "UPDATE local_media_repository SET media_length = COALESCE(media_length, 0) / 2 + 1, created_ts = created_ts + 86400000",
    );
    await knex.raw(
      "UPDATE local_media_repository_thumbnails SET thumbnail_length = NULL WHERE thumbnail_width = 32",
    );
    await expectSummaryMatchesScan(knex, kind);
    // Deletes of many rows: whole origins and months, every media of a type.
    await knex("remote_media_cache").where("media_origin", "Example.COM-2").delete();
    await knex("remote_media_cache_thumbnails").where("media_origin", "matrix.org").delete();
    await knex("local_media_repository").where("media_type", "image/jpeg").delete();
    await knex("local_media_repository")
      .where("created_ts", "<", NOW - 200 * 86400000)
      .delete();
    await expectSummaryMatchesScan(knex, kind);
    // Emptying tables: TRUNCATE on PostgreSQL (DELETE without WHERE on SQLite), and DELETE.
    for (const table of ["remote_media_cache", "local_media_repository_thumbnails"]) {
      await knex.raw(kind === "postgres" ? `TRUNCATE ${table}` : `DELETE FROM ${table}`);
    }
    await expectSummaryMatchesScan(knex, kind);
    for (const table of ["local_media_repository", "remote_media_cache_thumbnails"]) {
      await knex.raw(`DELETE FROM ${table}`);
    }
    expect(await knex("sas_media_overview").count({ rows: "*" })).toEqual([
      { rows: kind === "postgres" ? "0" : 0 },
    ]);
    await insertStorageDataset(knex, randomStorageDataset({ seed: 8, now: NOW }));
    await expectSummaryMatchesScan(knex, kind);
  });
});

describe("the storage summary's slots on PostgreSQL", () => {
  let database: TestDatabase;
  beforeEach(async () => {
    database = await openTestDatabase("postgres");
    await installMediaUsageSummary(database.knex);
  });
  afterEach(() => database.close());

  /** A connection of its own, and the slot its writes go to. */
  async function writer(): Promise<{ db: Knex; slot: number }> {
    const db = openPostgres(database.url ?? "", { min: 1, max: 1 });
    const { rows } = await db.raw<{ rows: Array<{ slot: number }> }>(
      "SELECT pg_backend_pid() % 16 AS slot",
    );
    return { db, slot: Number(rows[0]?.slot) };
  }

  test("a media fetched through one connection and purged through another leaves no origin behind", async () => {
    const first = await writer();
    let second = await writer();
    const spare: Knex[] = [];
    while (second.slot === first.slot) {
      spare.push(second.db);
      second = await writer();
    }
    try {
      await first.db("remote_media_cache").insert({
        media_origin: "once.example",
        media_id: "m1",
        media_type: "image/png",
        created_ts: NOW,
        media_length: 42,
        filesystem_id: "m1",
      });
      await second.db("remote_media_cache").where("media_id", "m1").delete();
      // Two rows of the origin, +1 and -1: they sum to nothing, and nothing is what is read.
      const rows = await database
        .knex("sas_remote_origin_media")
        .where("media_origin", "once.example")
        .orderBy("media_count")
        .select("slot", "media_count", "media_length");
      expect(rows).toEqual([
        { slot: second.slot, media_count: "-1", media_length: "-42" },
        { slot: first.slot, media_count: "1", media_length: "42" },
      ]);
      await expectSummaryMatchesScan(database.knex, "postgres");
    } finally {
      await Promise.all([first.db, second.db, ...spare].map((db) => db.destroy()));
    }
  });
});
