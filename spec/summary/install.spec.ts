// Installing, detecting, verifying and uninstalling the per-user media summary, on SQLite and
// PostgreSQL: the backfill is exact, a second install is refused, and uninstall leaves the
// catalogue exactly as it was.

import knexFactory, { type Knex } from "knex";
import { insertMediaDataset, randomMediaDataset } from "../../fixtures";
import {
  detectMediaUsageSummary,
  installMediaUsageSummary,
  MEDIA_USAGE_SUMMARY_TABLE,
  MediaUsageSummaryError,
  uninstallMediaUsageSummary,
  verifyMediaUsageSummary,
} from "../../lib";
import { POSTGRES_TRIGGERS, SQLITE_TRIGGERS } from "../../lib/summary/names";
import {
  DATABASE_KINDS,
  openTestDatabase,
  type DatabaseKind,
  type TestDatabase,
} from "../helpers/databases";
import { catalogueListing, expectedSummaryRows, summaryRows } from "../helpers/media-usage";

/** Random media with the awkward cases: no user, no length, media moved between users and to none. */
async function seedAwkwardMedia(db: Knex, seed: number): Promise<void> {
  const dataset = randomMediaDataset({ seed, users: 80 });
  for (let i = 0; i < 12; i++) {
    dataset.media.push({
      media_id: `nouser${i}`,
      user_id: null,
      media_length: i % 3 === 0 ? null : 10 * i,
      created_ts: 1_000,
    });
  }
  await insertMediaDataset(db, dataset);
  const someone = dataset.media[3]?.user_id ?? null;
  await db("local_media_repository")
    .whereIn("media_id", ["m000000", "m000010", "m000020"])
    .update({ user_id: someone });
  await db("local_media_repository")
    .whereIn("media_id", ["m000030", "m000031"])
    .update({ user_id: null });
  await db("local_media_repository")
    .whereIn("media_id", ["nouser1", "nouser2"])
    .update({ user_id: "@adopter:test" });
}

async function withDatabase(
  kind: DatabaseKind,
  work: (database: TestDatabase) => Promise<void>,
): Promise<void> {
  const database = await openTestDatabase(kind);
  try {
    await work(database);
  } finally {
    await database.close();
  }
}

const triggersOf = (kind: DatabaseKind): readonly string[] =>
  kind === "postgres" ? POSTGRES_TRIGGERS : SQLITE_TRIGGERS;

describe.each(DATABASE_KINDS)("the per-user media summary on %s", (kind) => {
  test("install backfills every user's count and bytes exactly, and reports the totals", () =>
    withDatabase(kind, async ({ knex }) => {
      await seedAwkwardMedia(knex, 11);
      const expected = await expectedSummaryRows(knex);
      expect(expected.length).toBeGreaterThan(50);

      const result = await installMediaUsageSummary(knex);

      expect(await summaryRows(knex)).toEqual(expected);
      expect(result).toEqual({
        users: expected.length,
        media: expected.reduce((sum, row) => sum + row.media_count, 0),
        upgradedTriggers: [],
        userSummary: "installed",
        storageSummary: "installed",
      });
      expect(await verifyMediaUsageSummary(knex)).toEqual({
        installed: true,
        triggersPresent: true,
        missingTriggers: [],
        outdatedTriggers: [],
        drift: [],
        driftedUsers: 0,
      });
    }));

  test("install on a database without media makes an empty summary", () =>
    withDatabase(kind, async ({ knex }) => {
      expect(await installMediaUsageSummary(knex)).toEqual({
        users: 0,
        media: 0,
        upgradedTriggers: [],
        userSummary: "installed",
        storageSummary: "installed",
      });
      expect(await summaryRows(knex)).toEqual([]);
      expect(await detectMediaUsageSummary(knex)).toBe(true);
    }));

  test("a second install is refused and leaves the first one as it was", () =>
    withDatabase(kind, async ({ knex }) => {
      await seedAwkwardMedia(knex, 12);
      await installMediaUsageSummary(knex);
      const catalogue = await catalogueListing(knex, kind);
      const rows = await summaryRows(knex);

      const refusal = installMediaUsageSummary(knex);
      await expect(refusal).rejects.toBeInstanceOf(MediaUsageSummaryError);
      await expect(refusal).rejects.toMatchObject({
        reason: "already-installed",
        message: /already installed/,
      });

      expect(await catalogueListing(knex, kind)).toEqual(catalogue);
      expect(await summaryRows(knex)).toEqual(rows);
    }));

  test("uninstall leaves exactly the objects that were there before install", () =>
    withDatabase(kind, async ({ knex }) => {
      await seedAwkwardMedia(knex, 13);
      const before = await catalogueListing(knex, kind);
      await installMediaUsageSummary(knex);
      const installed = await catalogueListing(knex, kind);
      expect(installed.filter((line) => !before.includes(line)).length).toBeGreaterThanOrEqual(
        kind === "postgres" ? 12 : 6,
      );

      await uninstallMediaUsageSummary(knex);

      expect(await catalogueListing(knex, kind)).toEqual(before);
      expect(await detectMediaUsageSummary(knex)).toBe(false);
    }));

  test("uninstall with no summary installed changes nothing", () =>
    withDatabase(kind, async ({ knex }) => {
      const before = await catalogueListing(knex, kind);
      await uninstallMediaUsageSummary(knex);
      expect(await catalogueListing(knex, kind)).toEqual(before);
    }));

  test("detect is false before install, true once installed, false after uninstall", () =>
    withDatabase(kind, async ({ knex }) => {
      expect(await detectMediaUsageSummary(knex)).toBe(false);
      await installMediaUsageSummary(knex);
      expect(await detectMediaUsageSummary(knex)).toBe(true);
      await uninstallMediaUsageSummary(knex);
      expect(await detectMediaUsageSummary(knex)).toBe(false);
    }));

  test.each(triggersOf(kind))(
    "a summary whose trigger %s was dropped is not detected, and install refuses until uninstall",
    (trigger) =>
      withDatabase(kind, async ({ knex }) => {
        const before = await catalogueListing(knex, kind);
        await installMediaUsageSummary(knex);
        await knex.raw(
          kind === "postgres"
            ? `DROP TRIGGER ${trigger} ON local_media_repository`
            : `DROP TRIGGER ${trigger}`,
        );

        expect(await detectMediaUsageSummary(knex)).toBe(false);
        expect(await verifyMediaUsageSummary(knex)).toMatchObject({
          installed: true,
          triggersPresent: false,
          missingTriggers: [trigger],
        });
        await expect(installMediaUsageSummary(knex)).rejects.toMatchObject({
          reason: "already-installed",
        });

        await uninstallMediaUsageSummary(knex);
        expect(await catalogueListing(knex, kind)).toEqual(before);
        await installMediaUsageSummary(knex);
        expect(await detectMediaUsageSummary(knex)).toBe(true);
      }),
  );

  test("a summary table whose triggers are all gone is not detected", () =>
    withDatabase(kind, async ({ knex }) => {
      await installMediaUsageSummary(knex);
      for (const trigger of triggersOf(kind)) {
        await knex.raw(
          kind === "postgres"
            ? `DROP TRIGGER ${trigger} ON local_media_repository`
            : `DROP TRIGGER ${trigger}`,
        );
      }
      expect(await detectMediaUsageSummary(knex)).toBe(false);
      expect((await verifyMediaUsageSummary(knex)).missingTriggers).toEqual([...triggersOf(kind)]);
    }));

  test("verify reports missing, extra and wrong rows, listing at most 100 of them", () =>
    withDatabase(kind, async ({ knex }) => {
      await seedAwkwardMedia(knex, 14);
      await installMediaUsageSummary(knex);
      const [first, second, third] = await summaryRows(knex);
      if (!first || !second || !third) throw new Error("the data set is too small");
      await knex(MEDIA_USAGE_SUMMARY_TABLE).where("user_id", first.user_id).delete();
      await knex(MEDIA_USAGE_SUMMARY_TABLE)
        .where("user_id", second.user_id)
        .update({ media_count: 1000 });
      await knex(MEDIA_USAGE_SUMMARY_TABLE)
        .where("user_id", third.user_id)
        .update({ media_length: 7 });
      await knex(MEDIA_USAGE_SUMMARY_TABLE).insert({
        user_id: "@ghost:test",
        media_count: 2,
        media_length: 5,
      });

      const report = await verifyMediaUsageSummary(knex);

      expect(report.driftedUsers).toBe(4);
      expect(report.drift).toEqual(
        [
          {
            user_id: first.user_id,
            expected: { count: first.media_count, length: first.media_length },
            actual: null,
          },
          {
            user_id: second.user_id,
            expected: { count: second.media_count, length: second.media_length },
            actual: { count: 1000, length: second.media_length },
          },
          {
            user_id: third.user_id,
            expected: { count: third.media_count, length: third.media_length },
            actual: { count: third.media_count, length: 7 },
          },
          { user_id: "@ghost:test", expected: null, actual: { count: 2, length: 5 } },
        ].sort((a, b) => Buffer.compare(Buffer.from(a.user_id), Buffer.from(b.user_id))),
      );

      // More than 100 users off: every user with media, and 40 ghosts.
      await knex(MEDIA_USAGE_SUMMARY_TABLE).update({ media_count: 0 });
      const ghosts = Array.from({ length: 39 }, (_, i) => ({
        user_id: `@ghost${i}:test`,
        media_count: 1,
        media_length: 1,
      }));
      await knex(MEDIA_USAGE_SUMMARY_TABLE).insert(ghosts);
      const many = await verifyMediaUsageSummary(knex);
      expect(many.driftedUsers).toBe((await expectedSummaryRows(knex)).length + 40);
      expect(many.drift).toHaveLength(100);
    }));

  test("install refuses a database without local_media_repository", async () => {
    const database = await openTestDatabase(kind, { schema: false });
    try {
      await expect(installMediaUsageSummary(database.knex)).rejects.toMatchObject({
        reason: "no-media-table",
      });
      expect(await detectMediaUsageSummary(database.knex)).toBe(false);
    } finally {
      await database.close();
    }
  });
});

test("the summary refuses a database it cannot keep exact (CockroachDB speaks PostgreSQL's dialect)", async () => {
  const cockroach = knexFactory({
    client: "cockroachdb",
    connection: "postgres://nobody@127.0.0.1:1/none",
  });
  try {
    await expect(installMediaUsageSummary(cockroach)).rejects.toMatchObject({
      reason: "unsupported-database",
    });
    await expect(detectMediaUsageSummary(cockroach)).rejects.toMatchObject({
      reason: "unsupported-database",
    });
  } finally {
    await cockroach.destroy();
  }
});
