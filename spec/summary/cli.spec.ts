// `synapse-admin-statistics summary install | verify | uninstall`, run as an operator runs it:
// the built binary against a SQLite file and a PostgreSQL database.

import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Knex } from "knex";
import {
  createSynapseSchema,
  insertMediaDataset,
  openSqlite,
  randomMediaDataset,
} from "../../fixtures";
import {
  detectMediaUsageSummary,
  MEDIA_USAGE_SUMMARY_TABLE,
  uninstallMediaUsageSummary,
} from "../../lib";
import { SUMMARY_TRIGGERS } from "../../lib/summary/names";
import { runCliToEnd } from "../helpers/cli";
import { openTestDatabase, type TestDatabase } from "../helpers/databases";
import { expectedSummaryRows } from "../helpers/media-usage";

const DATASET = randomMediaDataset({ seed: 21, users: 40 });

interface Target {
  /** What --database gets. */
  location: string;
  knex: Knex;
  close(): Promise<void>;
}

async function openTarget(kind: "sqlite" | "postgres"): Promise<Target> {
  if (kind === "postgres") {
    const database: TestDatabase = await openTestDatabase("postgres");
    await insertMediaDataset(database.knex, DATASET);
    return { location: database.url ?? "", knex: database.knex, close: () => database.close() };
  }
  const dir = mkdtempSync(join(tmpdir(), "sas-summary-cli-"));
  const file = join(dir, "homeserver.db");
  const knex = openSqlite(file);
  await createSynapseSchema(knex);
  await insertMediaDataset(knex, DATASET);
  return {
    location: file,
    knex,
    close: async () => {
      await knex.destroy();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const oneLine = (stderr: string): string[] => stderr.trim().split("\n");

describe.each(["sqlite", "postgres"] as const)("summary commands on %s", (kind) => {
  let target: Target;
  beforeAll(async () => {
    target = await openTarget(kind);
  });
  afterAll(() => target.close());

  test("install, verify, a tampered row found by verify, and uninstall, end to end", async () => {
    const expected = await expectedSummaryRows(target.knex);
    const media = expected.reduce((sum, row) => sum + row.media_count, 0);

    const install = runCliToEnd(["summary", "install", "--database", target.location]);
    expect(install).toMatchObject({ status: 0, stderr: "" });
    expect(install.stdout).toMatch(
      new RegExp(
        `^Installed the per-user media summary on .*: ${expected.length} users, ${media} media \\(\\d+\\.\\d s\\)`,
      ),
    );
    expect(await detectMediaUsageSummary(target.knex)).toBe(true);

    const clean = runCliToEnd(["summary", "verify", "--database", target.location]);
    expect(clean).toMatchObject({
      status: 0,
      stderr: "",
      stdout:
        "The per-user media summary matches local_media_repository.\n" +
        "The storage figures match the media tables.\n",
    });

    const [victim] = expected;
    await target
      .knex(MEDIA_USAGE_SUMMARY_TABLE)
      .where("user_id", victim?.user_id)
      .update({ media_count: 999 });
    await target
      .knex(MEDIA_USAGE_SUMMARY_TABLE)
      .insert({ user_id: "@ghost:test", media_count: 1, media_length: 5 });
    const drifted = runCliToEnd(["summary", "verify", "--database", target.location]);
    expect(drifted.status).toBe(1);
    expect(drifted.stdout).toContain("differs from local_media_repository for 2 users:");
    expect(drifted.stdout).toMatch(
      new RegExp(
        `${victim?.user_id.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} +${victim?.media_count} media, ${victim?.media_length} bytes +999 media, ${victim?.media_length} bytes`,
      ),
    );
    expect(drifted.stdout).toMatch(/@ghost:test +\(no row\) +1 media, 5 bytes/);
    expect(drifted.stdout).toContain("summary uninstall`, then `summary install`");
    expect(oneLine(drifted.stderr)).toEqual([
      "synapse-admin-statistics: the summary differs from local_media_repository for 2 users",
    ]);

    const uninstall = runCliToEnd(["summary", "uninstall", "--database", target.location]);
    expect(uninstall).toMatchObject({ status: 0, stderr: "" });
    expect(uninstall.stdout).toMatch(
      /^Removed the per-user media summary from .*: .*sas_user_media_usage_after_insert.*\.\n$/,
    );
    expect(await detectMediaUsageSummary(target.knex)).toBe(false);
  });
});

describe("summary commands, the other outcomes (on SQLite)", () => {
  let target: Target;
  beforeAll(async () => {
    target = await openTarget("sqlite");
  });
  afterAll(() => target.close());

  test("a second install and a stale summary are one-line failures; DATABASE_URL names the database too", async () => {
    const env = { DATABASE_URL: target.location };
    expect(runCliToEnd(["summary", "install"], env).status).toBe(0);
    const twice = runCliToEnd(["summary", "install"], env);
    expect(twice.status).toBe(1);
    expect(oneLine(twice.stderr)).toEqual([
      expect.stringMatching(
        /^synapse-admin-statistics: the per-user media summary is already installed \(found .*\); uninstall it first/,
      ),
    ]);

    await target.knex.raw(`DROP TRIGGER ${SUMMARY_TRIGGERS.delete}`);
    const stale = runCliToEnd(["summary", "verify"], env);
    expect(stale.status).toBe(1);
    expect(stale.stdout).toContain(`Missing or disabled triggers: ${SUMMARY_TRIGGERS.delete}.`);
    expect(oneLine(stale.stderr)).toEqual([
      "synapse-admin-statistics: the summary's triggers are missing: it is stale",
    ]);

    await uninstallMediaUsageSummary(target.knex);
    const notInstalled = runCliToEnd(["summary", "verify"], env);
    expect(notInstalled.status).toBe(1);
    expect(oneLine(notInstalled.stderr)).toEqual([
      expect.stringMatching(
        /^synapse-admin-statistics: no per-user media summary is installed on /,
      ),
    ]);
  });
});

describe("summary usage errors", () => {
  test.each([
    [["summary"], /summary needs one of install, verify, uninstall/],
    [["summary", "rebuild", "--database", "x.db"], /not "rebuild"/],
  ])("%j is a one-line usage error with exit code 2", (args, message) => {
    const result = runCliToEnd(args);
    expect(result.status).toBe(2);
    expect(oneLine(result.stderr)).toEqual([expect.stringMatching(message)]);
  });

  test("a SQLite file that does not exist is reported, not created", () => {
    const dir = mkdtempSync(join(tmpdir(), "sas-summary-cli-"));
    try {
      const file = join(dir, "missing.db");
      const result = runCliToEnd(["summary", "install", "--database", file]);
      expect(result.status).toBe(1);
      expect(oneLine(result.stderr)).toEqual([
        `synapse-admin-statistics: cannot open SQLite database ${file}: no such writable file`,
      ]);
      expect(existsSync(file)).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("an unreachable PostgreSQL is one line, with the password masked", () => {
    const result = runCliToEnd([
      "summary",
      "verify",
      "--database",
      "postgres://stats:hunter2@127.0.0.1:1/synapse",
    ]);
    expect(result.status).toBe(1);
    expect(oneLine(result.stderr)).toEqual([
      "synapse-admin-statistics: cannot connect to postgres://stats:***@127.0.0.1:1/synapse: connection refused (is PostgreSQL running there?)",
    ]);
  });

  test("--help lists the summary commands", () => {
    const result = runCliToEnd(["summary", "--help"]);
    expect(result.status).toBe(0);
    for (const word of ["summary install|verify|uninstall", "install", "verify", "uninstall"]) {
      expect(result.stdout).toContain(word);
    }
  });
});
