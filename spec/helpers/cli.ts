// Runs the built `synapse-admin-statistics` binary as an operator would, and collects what it
// prints.

import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Knex } from "knex";
import { createSynapseSchema, insertAccounts, openSqlite, STANDARD_ACCOUNTS } from "../../fixtures";
import { captureLog } from "./test-run";

export const CLI = resolve(__dirname, "../../dist/lib/cli/main.js");

/** The test's environment without DATABASE_URL and PORT, then `extra` (undefined removes). */
function cliEnvironment(extra: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.DATABASE_URL;
  delete env.PORT;
  for (const [key, value] of Object.entries(extra)) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  return env;
}

export interface RunningCli {
  baseUrl: string;
  process: ChildProcess;
  /** Everything printed so far. */
  output(): { stdout: string; stderr: string };
  /** The JSON log lines printed so far. */
  logs(): Array<Record<string, unknown>>;
  /** Sends a signal and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  exited: Promise<number | null>;
}

/** Starts `args` and waits until the service logs that it listens (or the process ends). */
export async function startCli(
  args: string[],
  env: Record<string, string | undefined> = {},
  readyTimeoutMs = 60_000,
  /** Text the output must also contain before the service counts as ready. */
  readyText?: string,
): Promise<RunningCli> {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: cliEnvironment(env),
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((done) =>
    child.once("close", (code) => {
      captureLog("cli", `${stdout}\n${stderr}`);
      done(code);
    }),
  );
  const logs = () =>
    stdout
      .split("\n")
      .filter((line) => line.startsWith("{"))
      .map((line) => JSON.parse(line) as Record<string, unknown>);

  const baseUrl = await new Promise<string>((ready, fail) => {
    const timer = setTimeout(
      () => fail(new Error(`not listening in time:\n${stdout}\n${stderr}`)),
      readyTimeoutMs,
    );
    const check = () => {
      const listening = logs().find((line) => line.msg === "listening");
      if (listening && (readyText === undefined || stdout.includes(readyText))) {
        clearTimeout(timer);
        ready(String(listening.listen));
      }
    };
    child.stdout?.on("data", check);
    void exited.then((code) => {
      clearTimeout(timer);
      fail(new Error(`exited with ${code} before listening:\n${stdout}\n${stderr}`));
    });
  });

  return {
    baseUrl,
    process: child,
    output: () => ({ stdout, stderr }),
    logs,
    exited,
    stop: async (signal = "SIGTERM") => {
      if (child.exitCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** Runs the binary to completion (for commands that fail or print and exit). */
export function runCliToEnd(
  args: string[],
  env: Record<string, string | undefined> = {},
): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [CLI, ...args], {
    env: cliEnvironment(env),
    encoding: "utf8",
    timeout: 60_000,
  });
  captureLog("cli", `${result.stdout}\n${result.stderr}`);
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

export interface SqliteSynapseFile {
  /** The temporary folder the file is in (free for other files of the test). */
  dir: string;
  file: string;
  /** Removes the folder and everything in it. */
  remove(): void;
}

/**
 * A SQLite Synapse database for the binary to open, in a temporary folder of its own: Synapse's
 * tables, the standard accounts, and whatever `seed` adds.
 */
export async function createSqliteSynapseFile(
  seed: (knex: Knex) => Promise<void> = async () => undefined,
): Promise<SqliteSynapseFile> {
  const dir = mkdtempSync(join(tmpdir(), "sas-cli-"));
  const file = join(dir, "homeserver.db");
  const knex = openSqlite(file);
  try {
    await createSynapseSchema(knex);
    await insertAccounts(knex, STANDARD_ACCOUNTS);
    await seed(knex);
  } finally {
    await knex.destroy();
  }
  return { dir, file, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * `serve` over a fresh SQLite Synapse database for the surrounding describe block, with `args`
 * added to its command line: started before its tests, stopped and removed after.
 */
export function useServedSqlite(args: string[] = []): {
  readonly cli: RunningCli;
  readonly database: SqliteSynapseFile;
} {
  let database: SqliteSynapseFile | undefined;
  let cli: RunningCli | undefined;
  beforeAll(async () => {
    database = await createSqliteSynapseFile();
    cli = await startCli([
      "serve",
      "--listen",
      "127.0.0.1:0",
      "--database",
      database.file,
      ...args,
    ]);
  });
  afterAll(async () => {
    await cli?.stop();
    database?.remove();
  });
  return {
    get cli(): RunningCli {
      if (!cli) throw new Error("the CLI is not started yet");
      return cli;
    },
    get database(): SqliteSynapseFile {
      if (!database) throw new Error("the database is not made yet");
      return database;
    },
  };
}
