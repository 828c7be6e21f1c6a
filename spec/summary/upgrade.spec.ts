// A summary installed on PostgreSQL by 0.1, whose row-level triggers make one
// statement of many media for one user quadratic: the router keeps using it (it is exact),
// verify names its outdated triggers, and install replaces them in place, keeping the rows.

import type { Knex } from "knex";
import { insertMediaDataset, randomMediaDataset } from "../../fixtures";
import {
  detectMediaUsageSummary,
  installMediaUsageSummary,
  uninstallMediaUsageSummary,
  verifyMediaUsageSummary,
} from "../../lib";
import { POSTGRES_TRIGGERS, SUMMARY_TRIGGERS } from "../../lib/summary/names";
import { useRowLevelTriggers } from "../../bench/summary-row-triggers";
import { runCliToEnd } from "../helpers/cli";
import { openTestDatabase, type TestDatabase } from "../helpers/databases";
import { catalogueListing, expectedSummaryRows, summaryRows } from "../helpers/media-usage";
import { bulkInsert, summaryWritesOf } from "./bulk-statements";
import { installOlderSummary } from "./older-summary";

const ROW_LEVEL = [SUMMARY_TRIGGERS.delete, SUMMARY_TRIGGERS.insert, SUMMARY_TRIGGERS.update];

/** Each of the summary's triggers as `name: row|statement, function owner`. */
async function triggerForms(knex: Knex): Promise<string[]> {
  const { rows } = (await knex.raw(
    `SELECT t.tgname AS name, CASE WHEN t.tgtype & 1 = 1 THEN 'row' ELSE 'statement' END AS level,
            pg_get_userbyid(p.proowner) AS owner
       FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid
      WHERE t.tgname = ANY(?) ORDER BY t.tgname`,
    [[...POSTGRES_TRIGGERS]],
  )) as { rows: Array<{ name: string; level: string; owner: string }> };
  return rows.map((row) => `${row.name}: ${row.level}, ${row.owner}`);
}

describe("a summary installed by an earlier version, on PostgreSQL", () => {
  let database: TestDatabase;
  let knex: Knex;
  beforeEach(async () => {
    database = await openTestDatabase("postgres");
    knex = database.knex;
    await insertMediaDataset(knex, randomMediaDataset({ seed: 31, users: 30 }));
    await installOlderSummary(knex, "postgres");
    await useRowLevelTriggers(knex);
  });
  afterEach(() => database.close());

  test("is used by the router and verified exact, and verify names its outdated triggers", async () => {
    expect((await triggerForms(knex)).filter((form) => form.includes(": row,"))).toHaveLength(3);
    expect(await detectMediaUsageSummary(knex)).toBe(true);
    expect(await verifyMediaUsageSummary(knex)).toEqual({
      installed: true,
      triggersPresent: true,
      missingTriggers: [],
      outdatedTriggers: ROW_LEVEL,
      drift: [],
      driftedUsers: 0,
    });
  });

  test("install replaces its triggers in place, keeping the rows, and a statement then writes each user's row once", async () => {
    // The old triggers still work: what they counted is what the new ones carry on from.
    const before = bulkInsert("postgres", "old", 300, "'@old:test'");
    expect(await summaryWritesOf(knex, before)).toMatchObject({ updated: 299 });
    const rows = await summaryRows(knex);
    const owners = (await triggerForms(knex)).map((form) => form.split(", ")[1]);

    const result = await installMediaUsageSummary(knex);

    expect(result).toEqual({
      users: rows.length,
      media: rows.reduce((sum, row) => sum + row.media_count, 0),
      upgradedTriggers: ROW_LEVEL,
      userSummary: "upgraded",
      storageSummary: "installed",
    });
    expect(await summaryRows(knex)).toEqual(rows);
    expect(await triggerForms(knex)).toEqual(
      [...POSTGRES_TRIGGERS].sort().map((name, index) => `${name}: statement, ${owners[index]}`),
    );
    expect(await verifyMediaUsageSummary(knex)).toMatchObject({
      triggersPresent: true,
      outdatedTriggers: [],
      driftedUsers: 0,
    });
    expect(await summaryWritesOf(knex, bulkInsert("postgres", "new", 300, "'@old:test'"))).toEqual({
      inserted: 0,
      updated: 1,
      deleted: 0,
    });
    expect(await summaryRows(knex)).toEqual(await expectedSummaryRows(knex));

    // Up to date now: a further install is refused as on any installed summary.
    await expect(installMediaUsageSummary(knex)).rejects.toMatchObject({
      reason: "already-installed",
    });
  });

  test("install refuses one with a trigger missing, which only uninstall then install rebuilds", async () => {
    await knex.raw(`DROP TRIGGER ${SUMMARY_TRIGGERS.update} ON local_media_repository`);
    const catalogue = await catalogueListing(knex, "postgres");
    await expect(installMediaUsageSummary(knex)).rejects.toMatchObject({
      reason: "already-installed",
    });
    expect(await catalogueListing(knex, "postgres")).toEqual(catalogue);

    await uninstallMediaUsageSummary(knex);
    await installMediaUsageSummary(knex);
    expect(await verifyMediaUsageSummary(knex)).toMatchObject({
      triggersPresent: true,
      outdatedTriggers: [],
      driftedUsers: 0,
    });
  });

  test("summary verify tells to upgrade and exits 0; summary install upgrades it", async () => {
    const location = database.url ?? "";
    const verify = runCliToEnd(["summary", "verify", "--database", location]);
    expect(verify).toMatchObject({ status: 0, stderr: "" });
    expect(verify.stdout).toBe(
      `Triggers of an earlier version: ${ROW_LEVEL.join(", ")}.\n` +
        "They keep the summary exact, but a statement that changes many media of one user takes time quadratic in their number. " +
        "Run `summary install` to replace them in place.\n" +
        "The per-user media summary matches local_media_repository.\n" +
        "The summary holds no storage figures (an earlier version installed it): run `summary install` to add them.\n",
    );

    const install = runCliToEnd(["summary", "install", "--database", location]);
    expect(install).toMatchObject({ status: 0, stderr: "" });
    expect(install.stdout).toMatch(
      new RegExp(
        `^Upgraded the per-user media summary on .*: replaced ${ROW_LEVEL.join(", ")}; kept its \\d+ users, \\d+ media \\(\\d+\\.\\d s\\)\\.\\nIt holds the storage endpoints' figures \\(overview, remote origins\\) too\\.\\n$`,
      ),
    );
    expect(runCliToEnd(["summary", "verify", "--database", location]).stdout).toBe(
      "The per-user media summary matches local_media_repository.\n" +
        "The storage figures match the media tables.\n",
    );
  });
});
