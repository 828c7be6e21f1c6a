// Issue 11, item 11: log lines an operator can act on. knex's warnings through the package's
// logger without SQL; a failed token lookup named as such; the full request path; a request id
// linking a request's lines; and a client that left logged as such, not as a 200.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import request from "supertest";
import {
  createScratchPostgres,
  createSynapseSchema,
  insertAccounts,
  insertMediaDataset,
  randomMediaDataset,
  STANDARD_ACCOUNTS,
  STANDARD_TOKENS,
  type ScratchDatabase,
} from "../../fixtures";
import { openDatabase, parseDatabaseTarget } from "../../lib/cli/database";
import { createHostApp, createTestApp, createTestRouter, recordingLogger } from "../helpers/app";
import { USERS_MEDIA } from "../helpers/paths";
import { startCli } from "../helpers/cli";
import {
  DATABASE_KINDS,
  lockTable,
  postgresServerUrl,
  useTestDatabase,
} from "../helpers/databases";
import { TEST_SECRETS } from "../helpers/test-run";

const admin = `Bearer ${STANDARD_TOKENS.admin}`;

describe("knex's warnings", () => {
  const SQL_WARNING =
    `Acquire connection error: error: select "u"."name" from "access_tokens" as "t" where "t"."token" = '${TEST_SECRETS.databaseFailureToken}'` +
    ` - canceling statement due to conflict with recovery\n    at Parser.parseErrorMessage (/srv/node_modules/pg-protocol/dist/parser.js:1:1)`;

  test.each(["postgres", "sqlite"] as const)(
    "go through the package's logger without SQL text or a stack (%s)",
    async (kind) => {
      const { logger, records } = recordingLogger();
      const location = kind === "postgres" ? postgresServerUrl() : ":memory:";
      const db = await openDatabase(parseDatabaseTarget(location), {
        statementTimeoutMs: 0,
        readOnly: false,
        logger: { ...logger, info: logger.info },
      });
      try {
        // What knex hands its logger when a connection fails under a replication conflict.
        (db.client as { logger: { warn(message: string): void } }).logger.warn(SQL_WARNING);
      } finally {
        await db.destroy();
      }
      expect(records).toHaveLength(1);
      const line = JSON.stringify(records[0]);
      expect(records[0]?.level).toBe("warn");
      expect(line).toContain("canceling statement due to conflict with recovery");
      expect(line).not.toMatch(/select|access_tokens|"token"/i);
      expect(line).not.toContain(TEST_SECRETS.databaseFailureToken);
      expect(line).not.toMatch(/parser\.js|\\n/);
    },
  );

  test("a connection that cannot be opened is reported in one line", async () => {
    // A folder where the file should be: readable, but SQLite cannot open it.
    const dir = mkdtempSync(join(tmpdir(), "sas-issue11-knex-"));
    const { logger, records } = recordingLogger();
    const db = await openDatabase(parseDatabaseTarget(dir), {
      statementTimeoutMs: 0,
      readOnly: true,
      logger,
    });
    try {
      await expect(db.raw("SELECT 1")).rejects.toThrow();
    } finally {
      await db.destroy();
      rmSync(dir, { recursive: true, force: true });
    }
    const warnings = records.filter((record) => record.level === "warn");
    expect(warnings.length).toBeGreaterThan(0);
    for (const warning of warnings) {
      expect(JSON.stringify(warning)).not.toMatch(/\\n|\bat \/|PRAGMA/);
      expect(warning.message).toMatch(/SQLITE_CANTOPEN/);
      expect(warning.message).toMatch(/^knex/);
    }
  });
});

describe.each(DATABASE_KINDS)("the router's error lines on %s", (kind) => {
  describe("when the built-in token lookup fails", () => {
    const db = useTestDatabase(kind, (knex) => knex.schema.dropTable("access_tokens"));

    test("the line says the token lookup failed, not that authCheck threw", async () => {
      const { logger, records } = recordingLogger();
      const res = await request(createTestApp({ knex: db.current.knex, logger }))
        .get(USERS_MEDIA)
        .set("Authorization", admin);
      expect(res.status).toBe(500);
      expect(records).toHaveLength(1);
      expect(records[0]?.message).toBe("token lookup failed");
      expect(String(records[0]?.details.message)).toMatch(/access_tokens/);
    });

    test("a host's own authCheck that throws is still 'authCheck threw'", async () => {
      const { logger, records } = recordingLogger();
      const app = createTestApp({
        knex: db.current.knex,
        logger,
        authCheck: () => {
          throw new Error("the host's own failure");
        },
      });
      expect((await request(app).get(USERS_MEDIA).set("Authorization", admin)).status).toBe(500);
      expect(records[0]?.message).toBe("authCheck threw");
    });
  });

  describe("when a request fails", () => {
    const db = useTestDatabase(kind, (knex) => knex.schema.dropTable("local_media_repository"));

    test("the line has the full request path, not the path inside the mount", async () => {
      const { logger, records } = recordingLogger();
      const host = createHostApp();
      host.use("/_synapse/admin", createTestRouter({ knex: db.current.knex, logger }));
      await request(host).get(`${USERS_MEDIA}?limit=3`).set("Authorization", admin);
      expect(records[0]?.details).toMatchObject({
        method: "GET",
        path: USERS_MEDIA,
        query: "limit=3",
      });
    });

    test("the line carries a request id: the host's own (req.id) when it set one", async () => {
      const { logger, records } = recordingLogger();
      const host = createHostApp();
      host.use((req, _res, next) => {
        (req as { id?: unknown }).id = "host-request-42";
        next();
      });
      host.use("/_synapse/admin", createTestRouter({ knex: db.current.knex, logger }));
      await request(host).get(USERS_MEDIA).set("Authorization", admin);
      expect(records[0]?.details.requestId).toBe("host-request-42");

      const bare = recordingLogger();
      await request(createTestApp({ knex: db.current.knex, logger: bare.logger }))
        .get(USERS_MEDIA)
        .set("Authorization", admin);
      expect(bare.records[0]?.details.requestId).toMatch(/^[A-Za-z0-9_-]{8,}$/);
    });
  });
});

describe("the CLI's lines of one request", () => {
  let database: ScratchDatabase;
  beforeAll(async () => {
    database = await createScratchPostgres(postgresServerUrl(), { prefix: "sas_i11_logs" });
    await createSynapseSchema(database.knex);
    await insertAccounts(database.knex, STANDARD_ACCOUNTS);
    await insertMediaDataset(database.knex, randomMediaDataset({ seed: 11, users: 10 }));
  });
  afterAll(() => database.drop());

  test("share one request id, which the response carries too", async () => {
    const cli = await startCli([
      "serve",
      "--listen",
      "127.0.0.1:0",
      "--statement-timeout",
      "300",
      "--database",
      database.url,
    ]);
    try {
      const release = await lockTable(database.knex, "local_media_repository");
      let header: string | null;
      try {
        const res = await fetch(`${cli.baseUrl}${USERS_MEDIA}`, {
          headers: { Authorization: admin, "X-Request-ID": "proxy-abc-123" },
        });
        expect(res.status).toBe(500);
        header = res.headers.get("x-request-id");
      } finally {
        await release();
      }
      await new Promise((done) => setTimeout(done, 100));
      const error = cli.logs().find((line) => line.level === 50);
      const requestLine = cli.logs().find((line) => line.msg === "request");
      expect(error?.requestId).toEqual(expect.any(String));
      expect(requestLine).toMatchObject({
        requestId: error?.requestId,
        upstreamRequestId: "proxy-abc-123",
        status: 500,
        outcome: "completed",
      });
      expect(header).toBe(error?.requestId);
      expect(error?.path).toBe(USERS_MEDIA);
    } finally {
      expect(await cli.stop()).toBe(0);
    }
  });

  test("a proxy's X-Request-ID (nginx's hex, a UUID) is logged as upstreamRequestId", async () => {
    const cli = await startCli(["serve", "--listen", "127.0.0.1:0", "--database", database.url]);
    try {
      const ids = ["0f1e2d3c4b5a69788796a5b4c3d2e1f0", "123e4567-e89b-42d3-a456-426614174000"];
      for (const id of ids) {
        await fetch(`${cli.baseUrl}${USERS_MEDIA}`, {
          headers: { Authorization: admin, "X-Request-ID": id },
        });
      }
      await new Promise((done) => setTimeout(done, 100));
      const logged = cli.logs().filter((line) => line.msg === "request");
      expect(logged.map((line) => line.upstreamRequestId)).toEqual(ids);
    } finally {
      expect(await cli.stop()).toBe(0);
    }
  });

  test("an X-Request-ID that looks like a token is not logged", async () => {
    const cli = await startCli(["serve", "--listen", "127.0.0.1:0", "--database", database.url]);
    try {
      await fetch(`${cli.baseUrl}${USERS_MEDIA}`, {
        headers: { Authorization: admin, "X-Request-ID": TEST_SECRETS.unknownParameterToken },
      });
      await fetch(`${cli.baseUrl}${USERS_MEDIA}`, {
        headers: { Authorization: admin, "X-Request-ID": "not an id; with=odd characters" },
      });
      await new Promise((done) => setTimeout(done, 100));
      expect(cli.output().stdout).not.toContain(TEST_SECRETS.unknownParameterToken);
      const lines = cli.logs().filter((line) => line.msg === "request");
      expect(lines.length).toBeGreaterThan(0);
      for (const line of lines) expect(line.upstreamRequestId).toBeUndefined();
    } finally {
      expect(await cli.stop()).toBe(0);
    }
  });

  test("a client that left before the answer is logged as such, with no status", async () => {
    const cli = await startCli(["serve", "--listen", "127.0.0.1:0", "--database", database.url]);
    try {
      const release = await lockTable(database.knex, "local_media_repository");
      try {
        const abandoned = new AbortController();
        const pending = fetch(`${cli.baseUrl}${USERS_MEDIA}?order_by=media_count`, {
          headers: { Authorization: admin },
          signal: abandoned.signal,
        }).catch(() => "aborted");
        await new Promise((done) => setTimeout(done, 300));
        abandoned.abort();
        expect(await pending).toBe("aborted");
        await new Promise((done) => setTimeout(done, 200));
      } finally {
        await release();
      }
      await new Promise((done) => setTimeout(done, 200));
      const line = cli.logs().find((entry) => entry.query === "order_by=media_count");
      expect(line).toMatchObject({ msg: "request", outcome: "client closed" });
      expect(line?.status).toBeUndefined();
    } finally {
      expect(await cli.stop()).toBe(0);
    }
  });
});
