// The `serve` sidecar as an operator runs it: the real binary, a real database, real HTTP.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Knex } from "knex";
import {
  createRoomTables,
  createScratchPostgres,
  createSynapseSchema,
  insertAccounts,
  insertMediaDataset,
  openSqlite,
  randomMediaDataset,
  seedRooms,
  STANDARD_ACCOUNTS,
  STANDARD_TOKENS,
  withDatabase,
  type ScratchDatabase,
} from "../../fixtures";
import { runCliToEnd, startCli, type RunningCli } from "../helpers/cli";
import { lockTable, postgresServerUrl } from "../helpers/databases";
import { TEST_SECRETS } from "../helpers/test-run";
import { USERS_MEDIA } from "../helpers/paths";

const DATASET = randomMediaDataset({ seed: 4, users: 30 });

async function seed(knex: Knex): Promise<void> {
  await createSynapseSchema(knex);
  await insertAccounts(knex, STANDARD_ACCOUNTS);
  await insertMediaDataset(knex, DATASET);
}

const authorized = { headers: { Authorization: `Bearer ${STANDARD_TOKENS.admin}` } };

describe("serve --help and --version", () => {
  test("--help explains every option and exits 0", () => {
    const result = runCliToEnd(["serve", "--help"]);
    expect(result.status).toBe(0);
    for (const option of [
      "--database",
      "--state-database",
      "--listen",
      "--log-level",
      "--statement-timeout",
      "DATABASE_URL",
    ]) {
      expect(result.stdout).toContain(option);
    }
  });

  test("--version prints the package version", () => {
    const result = runCliToEnd(["--version"]);
    expect(result.status).toBe(0);
    expect(result.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  test("an unknown command or option is a one-line usage error with exit code 2", () => {
    for (const args of [["frobnicate"], ["serve", "--databse", "x"]]) {
      const result = runCliToEnd(args);
      expect(result.status).toBe(2);
      expect(result.stderr.trim().split("\n")).toHaveLength(1);
      expect(result.stderr).toMatch(/^synapse-admin-statistics: .*\(see --help\)/);
    }
  });
});

describe("serve on a SQLite database", () => {
  let dir: string;
  let cli: RunningCli;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "sas-cli-"));
    const file = join(dir, "homeserver.db");
    const knex = openSqlite(file);
    await seed(knex);
    await knex.destroy();
    cli = await startCli(["serve", "--listen", "127.0.0.1:0"], { DATABASE_URL: file });
  });
  afterAll(async () => {
    await cli?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test("serves the users' media endpoint with Synapse's tokens", async () => {
    const res = await fetch(`${cli.baseUrl}${USERS_MEDIA}?limit=2`, authorized);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { total: number; users: unknown[] };
    expect(body.users).toHaveLength(2);
    expect(body.total).toBe(30);
    const forbidden = await fetch(`${cli.baseUrl}${USERS_MEDIA}`, {
      headers: { Authorization: `Bearer ${STANDARD_TOKENS.user}` },
    });
    expect(forbidden.status).toBe(403);
  });

  test("logs one JSON line per request with method, path, status and duration", async () => {
    await fetch(`${cli.baseUrl}${USERS_MEDIA}?order_by=media_count&limit=3`, authorized);
    await new Promise((done) => setTimeout(done, 100));
    const lines = cli.logs().filter((line) => line.query === "order_by=media_count&limit=3");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      msg: "request",
      method: "GET",
      path: USERS_MEDIA,
      status: 200,
    });
    expect(typeof lines[0]?.durationMs).toBe("number");
  });

  test("an access token never reaches the log, from the header or the query", async () => {
    await fetch(`${cli.baseUrl}${USERS_MEDIA}?access_token=${STANDARD_TOKENS.admin}`);
    await fetch(`${cli.baseUrl}${USERS_MEDIA}?acc%65ss_token=${STANDARD_TOKENS.admin}`);
    await fetch(`${cli.baseUrl}${USERS_MEDIA}`, authorized);
    await fetch(`${cli.baseUrl}${USERS_MEDIA}?access_token=${TEST_SECRETS.unknownQueryToken}`);
    await new Promise((done) => setTimeout(done, 100));
    const { stdout, stderr } = cli.output();
    for (const token of [STANDARD_TOKENS.admin, TEST_SECRETS.unknownQueryToken]) {
      expect(stdout).not.toContain(token);
      expect(stderr).not.toContain(token);
    }
    expect(stdout).toContain("access_token=[redacted]");
  });

  test("a path the service does not serve is 404 M_UNRECOGNIZED in JSON", async () => {
    const res = await fetch(`${cli.baseUrl}/_matrix/client/versions`);
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ errcode: "M_UNRECOGNIZED", error: "Unrecognized request" });
  });

  test("CORS end to end: a browser's preflight and the GET after it both succeed", async () => {
    const origin = "https://admin.example.net";
    const preflight = await fetch(`${cli.baseUrl}${USERS_MEDIA}`, {
      method: "OPTIONS",
      headers: {
        Origin: origin,
        "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "authorization",
      },
    });
    expect(preflight.status).toBe(200);
    expect(preflight.headers.get("access-control-allow-origin")).toBe("*");
    expect(preflight.headers.get("access-control-allow-methods")).toContain("GET");
    expect(preflight.headers.get("access-control-allow-headers")?.toLowerCase()).toContain(
      "authorization",
    );
    const get = await fetch(`${cli.baseUrl}${USERS_MEDIA}`, {
      headers: { Origin: origin, Authorization: `Bearer ${STANDARD_TOKENS.admin}` },
    });
    expect(get.status).toBe(200);
    expect(get.headers.get("access-control-allow-origin")).toBe("*");
  });

  test("the OpenAPI document is served", async () => {
    const res = await fetch(`${cli.baseUrl}/_synapse/admin/v1/statistics/openapi.json`);
    expect(res.status).toBe(200);
    const document = (await res.json()) as { openapi: string; paths: Record<string, unknown> };
    expect(document.openapi).toBe("3.1.0");
    expect(Object.keys(document.paths)).toContain(USERS_MEDIA);
  });

  test("serving leaves the SQLite file byte for byte as it was", async () => {
    const file = join(dir, "homeserver.db");
    const before = readFileSync(file);
    for (const query of [
      "",
      "?order_by=displayname&dir=b",
      "?search_term=a",
      "?from_ts=1500&until_ts=3000",
    ]) {
      expect((await fetch(`${cli.baseUrl}${USERS_MEDIA}${query}`, authorized)).status).toBe(200);
    }
    expect(readFileSync(file).equals(before)).toBe(true);
  });
});

describe("serve on PostgreSQL", () => {
  let database: ScratchDatabase;
  beforeAll(async () => {
    database = await createScratchPostgres(postgresServerUrl(), { prefix: "sas_cli" });
    await seed(database.knex);
  });
  afterAll(() => database.drop());

  /** Holds an exclusive lock on the media table, so the endpoint's query waits on it. */
  const lockMedia = () => lockTable(database.knex, "local_media_repository");

  test("a query past --statement-timeout is cancelled and answered 500; the service stays up", async () => {
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
      // Warm up: the schema probe reads only the catalogue and is not blocked by the lock.
      expect((await fetch(`${cli.baseUrl}${USERS_MEDIA}`, authorized)).status).toBe(200);
      const release = await lockMedia();
      let status: number;
      let elapsed: number;
      try {
        const started = Date.now();
        const res = await fetch(`${cli.baseUrl}${USERS_MEDIA}`, authorized);
        elapsed = Date.now() - started;
        status = res.status;
        expect(await res.json()).toEqual({ errcode: "M_UNKNOWN", error: "Internal server error" });
      } finally {
        await release();
      }
      expect(status).toBe(500);
      expect(elapsed).toBeLessThan(5_000);
      const after = await fetch(`${cli.baseUrl}${USERS_MEDIA}`, authorized);
      expect(after.status).toBe(200);
      const errors = cli.logs().filter((line) => line.level === 50);
      expect(errors).toHaveLength(1);
      expect(errors[0]?.code).toBe("57014");
    } finally {
      expect(await cli.stop()).toBe(0);
    }
  });

  test("SIGTERM stops accepting, finishes requests in flight, closes the pools and exits 0", async () => {
    const cli = await startCli(["serve", "--listen", "127.0.0.1:0", "--database", database.url]);
    expect((await fetch(`${cli.baseUrl}${USERS_MEDIA}`, authorized)).status).toBe(200);
    const release = await lockMedia();
    const inFlight = fetch(`${cli.baseUrl}${USERS_MEDIA}?limit=1`, authorized);
    await new Promise((done) => setTimeout(done, 300));
    cli.process.kill("SIGTERM");
    await new Promise((done) => setTimeout(done, 300));
    // Stopping: new connections are refused while the old request still waits on the lock.
    await expect(fetch(`${cli.baseUrl}${USERS_MEDIA}`, authorized)).rejects.toThrow();
    expect(cli.process.exitCode).toBeNull();
    await release();
    const res = await inFlight;
    expect(res.status).toBe(200);
    expect(((await res.json()) as { users: unknown[] }).users).toHaveLength(1);
    expect(await cli.exited).toBe(0);
    const messages = cli.logs().map((line) => String(line.msg));
    const stopping = messages.findIndex((message) => message.startsWith("stopping"));
    expect(stopping).toBeGreaterThan(-1);
    expect(messages.at(-1)).toBe("stopped");
    // The request in flight finished (and was logged) after the stop began.
    expect(messages.slice(stopping)).toContain("request");
    const sessions = await database.knex.raw<{ rows: unknown[] }>(
      "SELECT 1 FROM pg_stat_activity WHERE application_name = 'synapse-admin-statistics' AND datname = current_database()",
    );
    expect(sessions.rows).toHaveLength(0);
  });

  test("on SIGTERM, queries of a request whose client left still finish before the pools close", async () => {
    const cli = await startCli(["serve", "--listen", "127.0.0.1:0", "--database", database.url]);
    expect((await fetch(`${cli.baseUrl}${USERS_MEDIA}`, authorized)).status).toBe(200);
    const release = await lockMedia();
    // More requests than the pool's 10 connections: some run into the lock, the rest queue.
    const abandoned = new AbortController();
    const requests = Array.from({ length: 15 }, () =>
      fetch(`${cli.baseUrl}${USERS_MEDIA}?order_by=media_length`, {
        ...authorized,
        signal: abandoned.signal,
      }).catch(() => "aborted"),
    );
    await new Promise((done) => setTimeout(done, 500));
    abandoned.abort();
    expect(await Promise.all(requests)).toEqual(Array(15).fill("aborted"));
    cli.process.kill("SIGTERM");
    await new Promise((done) => setTimeout(done, 300));
    await release();
    expect(await cli.exited).toBe(0);
    // Nothing failed: the query waited on the lock, ran, and only then were the pools closed.
    expect(cli.logs().filter((line) => Number(line.level) >= 50)).toEqual([]);
  });

  test("the sample estimate of the largest rooms is bounded by --statement-timeout too", async () => {
    await createRoomTables(database.knex);
    await seedRooms(database.knex, { seed: 3, rooms: 20, events: 2000 });
    await database.knex.raw("ANALYZE");
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
      const rooms = `${cli.baseUrl}/_synapse/admin/v1/statistics/database/rooms?estimator=sample`;
      expect((await fetch(rooms, authorized)).status).toBe(200);
      const trx = await database.knex.transaction();
      await trx.raw("LOCK TABLE events IN ACCESS EXCLUSIVE MODE");
      try {
        const started = Date.now();
        const res = await fetch(rooms, authorized);
        expect(res.status).toBe(500);
        // The estimate's own default bound is 10 s: the service's 300 ms applied instead.
        expect(Date.now() - started).toBeLessThan(3000);
      } finally {
        await trx.commit();
      }
    } finally {
      expect(await cli.stop()).toBe(0);
    }
  });

  test("SIGINT stops an idle service with exit code 0", async () => {
    const cli = await startCli(["serve", "--listen", "127.0.0.1:0", "--database", database.url]);
    expect(await cli.stop("SIGINT")).toBe(0);
  });
});

describe("serve with a bad --database", () => {
  const fails = (args: string[], pattern: RegExp, env: Record<string, string> = {}) => {
    const result = runCliToEnd(["serve", "--listen", "127.0.0.1:0", ...args], env);
    expect(result.status).toBe(1);
    const lines = result.stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(pattern);
    expect(result.stderr).not.toMatch(/\n\s+at /);
    return result;
  };

  test("an unreachable server names the server and the reason", () => {
    const result = fails(
      ["--database", `postgres://stats:${TEST_SECRETS.urlPassword}@127.0.0.1:1/synapse`],
      /^synapse-admin-statistics: cannot connect to postgres:\/\/stats:\*\*\*@127\.0\.0\.1:1\/synapse: connection refused/,
    );
    expect(result.stderr).not.toContain(TEST_SECRETS.urlPassword);
  });

  test("a password given as a URL parameter is masked too", () => {
    const result = fails(
      [
        "--database",
        `postgres://stats@127.0.0.1:1/synapse?password=${TEST_SECRETS.urlPassword}&sslmode=disable`,
      ],
      /cannot connect to postgres:\/\/stats@127\.0\.0\.1:1\/synapse\?password=\*\*\*&sslmode=disable: connection refused/,
    );
    expect(result.stderr).not.toContain(TEST_SECRETS.urlPassword);
  });

  test("a database that does not exist says so", () => {
    fails(
      ["--database", withDatabase(postgresServerUrl(), "sas_no_such_database")],
      /database "sas_no_such_database" does not exist/,
    );
  });

  test("a PostgreSQL database without Synapse's tables is not a Synapse database", async () => {
    const empty = await createScratchPostgres(postgresServerUrl(), { prefix: "sas_empty" });
    try {
      fails(
        ["--database", empty.url],
        /is not a Synapse database: missing tables local_media_repository, profiles, users, access_tokens/,
      );
    } finally {
      await empty.drop();
    }
  });

  test("a wrong password is refused in one line (when the server checks passwords)", async () => {
    const url = new URL(postgresServerUrl());
    const admin = await createScratchPostgres(postgresServerUrl(), { prefix: "sas_pw" });
    try {
      const role = `sas_pw_${process.pid}`;
      await admin.knex.raw(`CREATE ROLE ${role} LOGIN PASSWORD 'right-password'`);
      try {
        url.username = role;
        url.password = TEST_SECRETS.wrongPassword;
        url.pathname = `/${admin.name}`;
        const result = runCliToEnd([
          "serve",
          "--listen",
          "127.0.0.1:0",
          "--database",
          url.toString(),
        ]);
        expect(result.stderr).not.toContain(TEST_SECRETS.wrongPassword);
        if (/password authentication failed/.test(result.stderr)) {
          expect(result.status).toBe(1);
          expect(result.stderr.trim().split("\n")).toHaveLength(1);
        } else {
          // A trust-authenticated server lets the role in; it then meets an empty database.
          expect(result.stderr).toMatch(/is not a Synapse database/);
        }
      } finally {
        await admin.knex.raw(`DROP ROLE ${role}`);
      }
    } finally {
      await admin.drop();
    }
  });

  test("a missing SQLite file is not created", () => {
    const path = join(tmpdir(), `sas-missing-${process.pid}.db`);
    fails(["--database", path], /cannot open SQLite database .*: no such readable file/);
    expect(() => rmSync(path)).toThrow();
  });

  test("a file that is not SQLite says so", () => {
    const path = join(tmpdir(), `sas-not-sqlite-${process.pid}.db`);
    writeFileSync(path, "this is not a database, just text that is long enough ".repeat(20));
    try {
      fails(["--database", path], /is not a SQLite database|cannot use/);
    } finally {
      rmSync(path);
    }
  });

  test("no database at all is a usage error", () => {
    const result = runCliToEnd(["serve"]);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/no database: give --database or set DATABASE_URL/);
  });
});
