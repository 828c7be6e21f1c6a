// The storage endpoints and the storage part of the summary, on both databases: they answer the
// same with and without it (and do read it when it is there), fall back to the media tables
// when it is uninstalled under a running router or lacks a trigger, and verify and install
// deal with a summary that drifted or that an earlier version installed.

import type { Knex } from "knex";
import request from "supertest";
import { insertStorageDataset, randomStorageDataset, STANDARD_TOKENS } from "../../fixtures";
import {
  detectStorageSummary,
  installMediaUsageSummary,
  uninstallMediaUsageSummary,
  verifyStorageSummary,
} from "../../lib";
import {
  POSTGRES_STORAGE_TRIGGERS,
  SQLITE_STORAGE_TRIGGERS,
} from "../../lib/summary/storage-names";
import type { RemoteOriginsResponse, StorageOverview } from "../../lib/storage-types";
import { createTestApp } from "../helpers/app";
import { runCliToEnd } from "../helpers/cli";
import { DATABASE_KINDS, openTestDatabase, type TestDatabase } from "../helpers/databases";
import { catalogueListing, summaryRows } from "../helpers/media-usage";
import { REMOTE_ORIGINS, STORAGE_OVERVIEW } from "../helpers/paths";
import { dropStoragePart, installOlderSummary } from "./older-summary";
import { expectSummaryMatchesScan } from "./storage-compare";

const ORIGIN_QUERIES = [
  {},
  { order_by: "media_length", dir: "b", limit: 3 },
  { order_by: "media_count", dir: "f", from: 2, limit: 4 },
  { order_by: "origin", dir: "b", search_term: "example" },
];

interface Answers {
  media: Pick<StorageOverview, "local_media" | "remote_media" | "accuracy" | "notes">;
  origins: RemoteOriginsResponse[];
}

/** The media figures of the overview and some pages of origins, as one router answers them. */
async function answersOf(app: ReturnType<typeof createTestApp>): Promise<Answers> {
  const get = async (path: string, query: object = {}) => {
    const res = await request(app)
      .get(path)
      .query(query)
      .set("Authorization", `Bearer ${STANDARD_TOKENS.admin}`);
    expect({ path, query, status: res.status }).toEqual({ path, query, status: 200 });
    return res.body as unknown;
  };
  // The database's own figures (sizes, largest tables) change with the summary's tables.
  const overview = (await get(STORAGE_OVERVIEW)) as StorageOverview;
  const origins: RemoteOriginsResponse[] = [];
  for (const query of ORIGIN_QUERIES) {
    origins.push((await get(REMOTE_ORIGINS, query)) as RemoteOriginsResponse);
  }
  return {
    media: {
      local_media: overview.local_media,
      remote_media: overview.remote_media,
      accuracy: overview.accuracy,
      notes: overview.notes,
    },
    origins,
  };
}

/** Makes the summary say one origin has 123456 more bytes, and the local media 1 more. */
async function tamper(knex: Knex): Promise<void> {
  await knex("sas_remote_origin_media")
    .where("media_origin", "matrix.org")
    .increment("media_length", 123456);
  const row = await knex("sas_media_overview")
    .select("source", "typed", "media_type", "month")
    .where({ source: "local" })
    .orderBy(["typed", "media_type", "month"])
    .first();
  await knex("sas_media_overview").where(row).increment("media_count", 1);
}

describe.each(DATABASE_KINDS)("the storage endpoints and the summary on %s", (kind) => {
  let database: TestDatabase;
  let knex: Knex;
  beforeEach(async () => {
    database = await openTestDatabase(kind);
    knex = database.knex;
    await insertStorageDataset(knex, randomStorageDataset({ seed: 99, now: Date.now() }));
  });
  afterEach(() => database.close());

  test("answer the same with the summary as without, and read it when it is there", async () => {
    const scanned = await answersOf(createTestApp({ knex }));
    await installMediaUsageSummary(knex);
    // A router made now finds the summary on its first request.
    const app = createTestApp({ knex });
    expect(await answersOf(app)).toEqual(scanned);

    await tamper(knex);
    const tampered = await answersOf(app);
    expect(tampered.media.local_media.count).toBe(scanned.media.local_media.count + 1);
    const matrix = (answers: Answers) =>
      answers.origins[0]?.origins.find((origin) => origin.origin === "matrix.org")?.media_length;
    expect(matrix(tampered)).toBe((matrix(scanned) ?? 0) + 123456);
  });

  test("a router whose summary is uninstalled under it answers from the media tables", async () => {
    await installMediaUsageSummary(knex);
    await tamper(knex);
    const app = createTestApp({ knex });
    const fromSummary = await answersOf(app);

    await uninstallMediaUsageSummary(knex);
    const afterwards = await answersOf(app);
    expect(afterwards.media.local_media.count).toBe(fromSummary.media.local_media.count - 1);
    expect(afterwards).toEqual(await answersOf(createTestApp({ knex })));
  });

  test("a storage part missing a trigger is not read, and install refuses it until uninstall", async () => {
    const before = await catalogueListing(knex, kind);
    const scanned = await answersOf(createTestApp({ knex }));
    await installMediaUsageSummary(knex);
    await tamper(knex);
    // The update trigger of local thumbnails (PostgreSQL), their delete trigger (SQLite).
    const trigger = (
      kind === "postgres" ? POSTGRES_STORAGE_TRIGGERS : SQLITE_STORAGE_TRIGGERS
    )[5] as string;
    await knex.raw(
      `DROP TRIGGER ${trigger}${kind === "postgres" ? " ON local_media_repository_thumbnails" : ""}`,
    );

    expect(await detectStorageSummary(knex)).toBe(false);
    expect(await verifyStorageSummary(knex)).toMatchObject({ installed: true, missing: [trigger] });
    expect(await answersOf(createTestApp({ knex }))).toEqual(scanned);
    await expect(installMediaUsageSummary(knex)).rejects.toMatchObject({
      reason: "already-installed",
    });

    await uninstallMediaUsageSummary(knex);
    expect(await catalogueListing(knex, kind)).toEqual(before);
  });

  test("verify lists the rows that drifted, and the CLI fails on them", async () => {
    await installMediaUsageSummary(knex);
    expect(await verifyStorageSummary(knex)).toEqual({
      available: true,
      installed: true,
      missing: [],
      drift: [],
      driftedRows: 0,
    });
    await tamper(knex);
    await knex("sas_remote_origin_thumbnails").insert({
      media_origin: "ghost.example",
      slot: 3,
      thumbnail_count: 1,
      thumbnail_length: 5,
    });
    const report = await verifyStorageSummary(knex);
    expect(report.driftedRows).toBe(5);
    expect(report.drift).toContainEqual({
      table: "sas_remote_origin_thumbnails",
      side: "actual",
      row: { media_origin: "ghost.example", thumbnail_count: 1, thumbnail_length: 5 },
    });
    expect(report.drift.filter((row) => row.table === "sas_remote_origin_media")).toEqual([
      expect.objectContaining({
        side: "expected",
        row: expect.objectContaining({ media_origin: "matrix.org" }),
      }),
      expect.objectContaining({
        side: "actual",
        row: expect.objectContaining({ media_origin: "matrix.org" }),
      }),
    ]);

    if (kind === "postgres") {
      const verify = runCliToEnd(["summary", "verify", "--database", database.url ?? ""]);
      expect(verify.status).toBe(1);
      expect(verify.stdout).toContain(
        "The storage figures differ from the media tables in 5 rows:",
      );
      expect(verify.stdout).toContain(
        'sas_remote_origin_thumbnails is       {"media_origin":"ghost.example"',
      );
      expect(verify.stderr).toContain(
        "the summary's storage figures differ from the media tables in 5 rows",
      );
    }
  });

  test("install adds the storage part to a summary an earlier version installed, keeping its rows", async () => {
    await installOlderSummary(knex, kind);
    const users = await summaryRows(knex);
    expect(await detectStorageSummary(knex)).toBe(false);
    expect(await verifyStorageSummary(knex)).toMatchObject({ available: true, installed: false });
    // Until then the router reads the media tables, and answers as it will after.
    const scanned = await answersOf(createTestApp({ knex }));

    const result = await installMediaUsageSummary(knex);
    expect(result).toMatchObject({
      userSummary: "kept",
      storageSummary: "installed",
      upgradedTriggers: [],
    });
    expect(await summaryRows(knex)).toEqual(users);
    expect(await detectStorageSummary(knex)).toBe(true);
    await expectSummaryMatchesScan(knex, kind);
    expect(await answersOf(createTestApp({ knex }))).toEqual(scanned);
    await expect(installMediaUsageSummary(knex)).rejects.toMatchObject({
      reason: "already-installed",
    });
  });

  test("a storage part dropped in part is stale: detect is false and install refuses", async () => {
    await installMediaUsageSummary(knex);
    await knex.raw("DROP INDEX sas_remote_media_cache_origin_created");
    expect(await detectStorageSummary(knex)).toBe(false);
    expect((await verifyStorageSummary(knex)).missing).toEqual([
      "sas_remote_media_cache_origin_created",
    ]);
    await expect(installMediaUsageSummary(knex)).rejects.toMatchObject({
      reason: "already-installed",
    });
    await dropStoragePart(knex, kind);
    expect(await installMediaUsageSummary(knex)).toMatchObject({ storageSummary: "installed" });
    await expectSummaryMatchesScan(knex, kind);
  });
});

describe("the summary commands and the storage part (on PostgreSQL)", () => {
  let database: TestDatabase;
  beforeEach(async () => {
    database = await openTestDatabase("postgres");
    await insertStorageDataset(database.knex, randomStorageDataset({ seed: 5, now: Date.now() }));
  });
  afterEach(() => database.close());

  test("verify tells to add the storage part to an earlier summary, install adds it, uninstall removes both", async () => {
    await installOlderSummary(database.knex, "postgres");
    const location = database.url ?? "";
    const verify = runCliToEnd(["summary", "verify", "--database", location]);
    expect(verify).toMatchObject({ status: 0, stderr: "" });
    expect(verify.stdout).toBe(
      "The per-user media summary matches local_media_repository.\n" +
        "The summary holds no storage figures (an earlier version installed it): run `summary install` to add them.\n",
    );

    const install = runCliToEnd(["summary", "install", "--database", location]);
    expect(install).toMatchObject({ status: 0, stderr: "" });
    expect(install.stdout).toMatch(
      /^Added the storage figures \(overview, remote origins\) to the per-user media summary on .* \(\d+\.\d s\)\. Triggers keep them exact from now on\.\n$/,
    );
    expect(runCliToEnd(["summary", "verify", "--database", location]).stdout).toBe(
      "The per-user media summary matches local_media_repository.\n" +
        "The storage figures match the media tables.\n",
    );

    const uninstall = runCliToEnd(["summary", "uninstall", "--database", location]);
    expect(uninstall).toMatchObject({ status: 0, stderr: "" });
    expect(uninstall.stdout).toMatch(/sas_media_overview.*sas_user_media_usage/);
    expect(await detectStorageSummary(database.knex)).toBe(false);
  });
});
