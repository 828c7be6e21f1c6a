// Issue 11, item 9: a fatal start-up error prints its one line, closes the pools and exits at
// once: within a second of the line, never lingering on a half-open connection or a signal
// handler.

import { spawn } from "node:child_process";
import { rmSync } from "node:fs";
import { createServer, type Server } from "node:net";
import {
  createScratchPostgres,
  createSynapseSchema,
  insertAccounts,
  STANDARD_ACCOUNTS,
  type ScratchDatabase,
} from "../../fixtures";
import { CLI } from "../helpers/cli";
import { postgresServerUrl } from "../helpers/databases";
import { startPostgresProcess, type PostgresProcess } from "../helpers/postgres-process";
import { captureLog } from "../helpers/test-run";

interface TimedRun {
  status: number | null;
  stderr: string;
  /** Milliseconds from the first line on stderr to the exit; undefined when none came. */
  exitAfterLineMs: number | undefined;
  totalMs: number;
}

/** Runs the CLI with a clock on it, killing it after `limitMs` (then `status` is null). */
function runTimed(args: string[], limitMs = 10_000, script?: string): Promise<TimedRun> {
  const started = Date.now();
  const env = { ...process.env };
  delete env.DATABASE_URL;
  delete env.PORT;
  const child = spawn(process.execPath, script ? ["-e", script] : [CLI, ...args], {
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  let stdout = "";
  let lineAt: number | undefined;
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => {
    lineAt ??= Date.now();
    stderr += chunk.toString();
  });
  const killer = setTimeout(() => child.kill("SIGKILL"), limitMs);
  return new Promise((done) => {
    child.once("exit", (code, signal) => {
      clearTimeout(killer);
      const exitedAt = Date.now();
      captureLog("cli", `${stdout}\n${stderr}`);
      done({
        status: signal === "SIGKILL" ? null : code,
        stderr,
        exitAfterLineMs: lineAt === undefined ? undefined : exitedAt - lineAt,
        totalMs: exitedAt - started,
      });
    });
  });
}

function expectPromptFatalExit(run: TimedRun, status: number, pattern: RegExp): void {
  expect({ status: run.status, stderr: run.stderr }).toEqual({
    status,
    stderr: expect.stringMatching(pattern),
  });
  expect(run.stderr.trim().split("\n")).toHaveLength(1);
  expect(run.exitAfterLineMs).toBeLessThan(1000);
}

test("--statement-timeout beyond PostgreSQL's 2147483647 is a usage error, at once", async () => {
  const run = await runTimed([
    "serve",
    "--listen",
    "127.0.0.1:0",
    "--statement-timeout",
    "2147483648",
    "--database",
    postgresServerUrl(),
  ]);
  expectPromptFatalExit(run, 2, /--statement-timeout .*2147483647/);
});

test("--statement-timeout 2147483647 is still accepted", async () => {
  const database = await createScratchPostgres(postgresServerUrl(), { prefix: "sas_i11_tmo" });
  try {
    await createSynapseSchema(database.knex);
    const child = spawn(
      process.execPath,
      [CLI, "serve", "--listen", "127.0.0.1:0", "--statement-timeout", "2147483647"],
      { env: { ...process.env, DATABASE_URL: database.url }, stdio: ["ignore", "pipe", "pipe"] },
    );
    let stdout = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    await new Promise<void>((listening, fail) => {
      const timer = setTimeout(() => fail(new Error(`not listening:\n${stdout}`)), 15_000);
      child.stdout.on("data", () => {
        if (stdout.includes('"msg":"listening"')) {
          clearTimeout(timer);
          listening();
        }
      });
    });
    child.kill("SIGTERM");
    expect(await new Promise((done) => child.once("exit", done))).toBe(0);
    captureLog("cli", stdout);
  } finally {
    await database.drop();
  }
});

test("a session set-up that fails leaves no connection behind: the process ends by itself", async () => {
  // openDatabase without the CLI's up-front check, so that the server refuses the setting.
  const script = `
    const { openDatabase, parseDatabaseTarget } = require(${JSON.stringify(
      CLI.replace(/main\.js$/, "database.js"),
    )});
    const quiet = { error() {}, warn() {}, info() {} };
    (async () => {
      const db = await openDatabase(parseDatabaseTarget(${JSON.stringify(postgresServerUrl())}), {
        statementTimeoutMs: 2147483648, readOnly: true, logger: quiet,
      });
      await db.raw("SELECT 1").then(() => process.stderr.write("unexpected success\\n"), () =>
        process.stderr.write("refused\\n"));
      await db.destroy();
    })();
  `;
  const run = await runTimed([], 8_000, script);
  expect(run.stderr).toBe("refused\n");
  expect(run.status).toBe(0);
  expect(run.exitAfterLineMs).toBeLessThan(1000);
});

describe("fatal paths once pools are open", () => {
  let database: ScratchDatabase;
  let busy: Server;
  let busyPort: number;
  beforeAll(async () => {
    database = await createScratchPostgres(postgresServerUrl(), { prefix: "sas_i11_fatal" });
    busy = createServer();
    await new Promise<void>((listening) => busy.listen(0, "127.0.0.1", listening));
    busyPort = (busy.address() as { port: number }).port;
  });
  afterAll(async () => {
    busy?.close();
    await database?.drop();
  });

  test("a database without Synapse's tables", async () => {
    const run = await runTimed(["serve", "--listen", "127.0.0.1:0", "--database", database.url]);
    expectPromptFatalExit(run, 1, /is not a Synapse database/);
  });

  test("an address already in use", async () => {
    await createSynapseSchema(database.knex);
    await insertAccounts(database.knex, STANDARD_ACCOUNTS);
    const run = await runTimed([
      "serve",
      "--listen",
      `127.0.0.1:${busyPort}`,
      "--database",
      database.url,
    ]);
    expectPromptFatalExit(run, 1, /address already in use/);
  });

  test("a state database that refuses connections", async () => {
    const run = await runTimed([
      "serve",
      "--listen",
      "127.0.0.1:0",
      "--database",
      database.url,
      "--state-database",
      "postgres://stats@127.0.0.1:1/state",
    ]);
    expectPromptFatalExit(run, 1, /cannot connect to postgres:\/\/stats@127\.0\.0\.1:1\/state/);
  });
});

describe("a URL without a password against a server that asks for one (SCRAM)", () => {
  let server: PostgresProcess;
  beforeAll(async () => {
    // A server of this file's own: embedded PostgreSQL authenticates with scram-sha-256.
    server = await startPostgresProcess();
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
    if (server) rmSync(server.dataDir, { recursive: true, force: true });
  });

  test("says the password is missing and exits at once", async () => {
    const url = new URL(server.url);
    url.password = "";
    const run = await runTimed(["serve", "--listen", "127.0.0.1:0", "--database", url.toString()]);
    expectPromptFatalExit(run, 1, /password/);
    expect(run.totalMs).toBeLessThan(10_000);
  });
});
