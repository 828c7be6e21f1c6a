// The sidecar only reads: its sessions refuse writes, and a role with nothing but SELECT on
// Synapse's tables serves every request.

import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  createScratchPostgres,
  createSynapseSchema,
  insertAccounts,
  insertMediaDataset,
  openSqlite,
  randomMediaDataset,
  STANDARD_ACCOUNTS,
  STANDARD_TOKENS,
  type ScratchDatabase,
} from "../../fixtures";
import { openDatabase, parseDatabaseTarget } from "../../lib/cli/database";
import { silentLogger } from "../../lib/logger";
import { startCli } from "../helpers/cli";
import { postgresServerUrl } from "../helpers/databases";
import { TEST_SECRETS } from "../helpers/test-run";
import { LARGEST_MEDIA, REMOTE_ORIGINS, STORAGE_OVERVIEW, USERS_MEDIA } from "../helpers/paths";

const DATASET = randomMediaDataset({ seed: 77, users: 25 });

describe("read-only sessions", () => {
  test("a PostgreSQL session opened for serving refuses writes", async () => {
    const scratch = await createScratchPostgres(postgresServerUrl(), { prefix: "sas_ro" });
    try {
      await createSynapseSchema(scratch.knex);
      const db = await openDatabase(parseDatabaseTarget(scratch.url), {
        statementTimeoutMs: 5000,
        readOnly: true,
        logger: silentLogger,
      });
      try {
        await expect(
          db("profiles").insert({ user_id: "x", displayname: "y" }),
        ).rejects.toMatchObject({
          code: "25006",
        });
        await expect(db.raw("CREATE TABLE sneaky (a int)")).rejects.toMatchObject({
          code: "25006",
        });
        expect((await db("profiles").count<{ count: string }[]>("* as count"))[0]?.count).toBe("0");
      } finally {
        await db.destroy();
      }
    } finally {
      await scratch.drop();
    }
  });

  test("settings in the URL cannot turn read-only or the statement timeout off", async () => {
    const scratch = await createScratchPostgres(postgresServerUrl(), { prefix: "sas_ro_url" });
    try {
      await createSynapseSchema(scratch.knex);
      const url = new URL(scratch.url);
      url.searchParams.set("options", "-c default_transaction_read_only=off");
      url.searchParams.set("statement_timeout", "0");
      const db = await openDatabase(parseDatabaseTarget(url.toString()), {
        statementTimeoutMs: 4321,
        readOnly: true,
        logger: silentLogger,
      });
      try {
        await expect(
          db("profiles").insert({ user_id: "x", displayname: "y" }),
        ).rejects.toMatchObject({ code: "25006" });
        const settings = await db.raw<{ rows: Array<{ timeout: string; readOnly: string }> }>(
          `SELECT current_setting('statement_timeout') AS timeout, current_setting('default_transaction_read_only') AS "readOnly"`,
        );
        expect(settings.rows[0]).toEqual({ timeout: "4321ms", readOnly: "on" });
      } finally {
        await db.destroy();
      }
    } finally {
      await scratch.drop();
    }
  });

  test("a SQLite connection opened for serving refuses writes", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sas-ro-"));
    try {
      const file = join(dir, "synapse.db");
      const writer = openSqlite(file);
      await createSynapseSchema(writer);
      await writer.destroy();
      const db = await openDatabase(parseDatabaseTarget(file), {
        statementTimeoutMs: 0,
        readOnly: true,
        logger: silentLogger,
      });
      try {
        await expect(db("profiles").insert({ user_id: "x", displayname: "y" })).rejects.toThrow(
          /readonly|read-only|query_only/i,
        );
      } finally {
        await db.destroy();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/**
 * A scratch database with the test data set and a login role given `grants` (each a statement
 * with `ROLE` where the role's name goes), dropped after the describe block; `readerUrl()` logs
 * in as that role.
 */
function useReaderRole(prefix: string, grants: () => string[]): { readerUrl(): string } {
  let scratch: ScratchDatabase;
  const role = `${prefix}_${process.pid}`;
  beforeAll(async () => {
    scratch = await createScratchPostgres(postgresServerUrl(), { prefix });
    await createSynapseSchema(scratch.knex);
    await insertAccounts(scratch.knex, STANDARD_ACCOUNTS);
    await insertMediaDataset(scratch.knex, DATASET);
    await scratch.knex.raw(`DROP ROLE IF EXISTS ${role}`);
    await scratch.knex.raw(`CREATE ROLE ${role} LOGIN PASSWORD '${TEST_SECRETS.readerPassword}'`);
    await scratch.knex.raw(`GRANT CONNECT ON DATABASE ${scratch.name} TO ${role}`);
    await scratch.knex.raw(`GRANT USAGE ON SCHEMA public TO ${role}`);
    for (const grant of grants()) await scratch.knex.raw(grant.replaceAll("ROLE", role));
  });
  afterAll(async () => {
    await scratch.drop();
    const cleanup = await createScratchPostgres(postgresServerUrl(), { prefix: "sas_cleanup" });
    await cleanup.knex.raw(`DROP ROLE IF EXISTS ${role}`);
    await cleanup.drop();
  });
  return {
    readerUrl() {
      const url = new URL(scratch.url);
      url.username = role;
      url.password = TEST_SECRETS.readerPassword;
      return url.toString();
    },
  };
}

describe("a PostgreSQL role with only SELECT", () => {
  const reader = useReaderRole("sas_reader", () => [
    "GRANT SELECT ON ALL TABLES IN SCHEMA public TO ROLE",
    "REVOKE CREATE ON SCHEMA public FROM PUBLIC",
  ]);

  test("serves every kind of request through the CLI", async () => {
    const cli = await startCli([
      "serve",
      "--listen",
      "127.0.0.1:0",
      "--database",
      reader.readerUrl(),
    ]);
    try {
      for (const query of [
        "",
        "?order_by=displayname&dir=b&limit=5",
        "?order_by=media_length&dir=b",
        "?order_by=media_count&from=3",
        "?search_term=ali",
        "?from_ts=1000&until_ts=3000",
      ]) {
        const res = await fetch(`${cli.baseUrl}${USERS_MEDIA}${query}`, {
          headers: { Authorization: `Bearer ${STANDARD_TOKENS.admin}` },
        });
        expect({ query, status: res.status }).toEqual({ query, status: 200 });
      }
      expect(cli.logs().filter((line) => line.level !== 30)).toEqual([]);
    } finally {
      expect(await cli.stop()).toBe(0);
    }
  });
});

/** The GRANT statements docs/operations.md tells an operator to run, in order. */
function documentedGrants(): string[] {
  const page = readFileSync(join(__dirname, "../../docs/operations.md"), "utf8");
  const block = /```sql\n([\s\S]*?)```/.exec(page)?.[1] ?? "";
  return block
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => /^GRANT SELECT ON /.test(line))
    .map((line) => line.replace(/;$/, ""));
}

describe("the role docs/operations.md grants", () => {
  const reader = useReaderRole("sas_docrole", () => {
    const grants = documentedGrants();
    expect(grants.length).toBeGreaterThan(0);
    return grants.map((grant) => grant.replace(/ TO synapse_stats$/, " TO ROLE"));
  });

  test("serves the users' media and every storage endpoint", async () => {
    const cli = await startCli([
      "serve",
      "--listen",
      "127.0.0.1:0",
      "--database",
      reader.readerUrl(),
    ]);
    try {
      const statuses: Record<string, number> = {};
      for (const path of [
        `${USERS_MEDIA}?order_by=media_length&dir=b`,
        STORAGE_OVERVIEW,
        REMOTE_ORIGINS,
        LARGEST_MEDIA,
        `${LARGEST_MEDIA}?source=remote`,
      ]) {
        const res = await fetch(`${cli.baseUrl}${path}`, {
          headers: { Authorization: `Bearer ${STANDARD_TOKENS.admin}` },
        });
        statuses[path] = res.status;
      }
      expect(Object.values(statuses)).toEqual([200, 200, 200, 200, 200]);
    } finally {
      expect(await cli.stop()).toBe(0);
    }
  });
});
